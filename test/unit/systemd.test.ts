import {
  describeUnit,
  parseProbe,
  planSystemd,
  unitExists,
  type UnitState,
} from '../../activities/modules/systemd';
import { SystemdArgs } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';

const args = (a: Record<string, unknown>) => SystemdArgs.parse(a);
const unit = (active: string, enablement: string, rc = enablement === 'enabled' ? 0 : 1): UnitState => ({
  status: { LoadState: 'loaded', ActiveState: active },
  enablement,
  enabledRc: rc,
});

describe('systemd arguments', () => {
  it('takes daemon_reload alone, and Ansible spellings daemon-reload and unit', () => {
    expect(args({ daemon_reload: true })).toMatchObject({ daemon_reload: true, scope: 'system' });
    expect(args({ 'daemon-reload': 'yes', unit: 'nginx', state: 'started' })).toMatchObject({
      daemon_reload: true,
      name: 'nginx',
    });
  });

  it('refuses a user or global scope clearly, a state without name, and a task asking nothing', () => {
    expect(taskArguments('systemd', { name: 'x', state: 'started', scope: 'user' }, {}).problems).toEqual([
      "systemd.scope: only scope=system is supported: a user's own systemd is not reached over this connection",
    ]);
    expect(taskArguments('systemd', { state: 'started' }, {}).problems?.[0]).toMatch(/need name/);
    expect(taskArguments('systemd', { name: 'x' }, {}).problems?.[0]).toMatch(/give state, enabled, masked/);
    expect(taskArguments('systemd', { name: 'web*', state: 'started' }, {}).problems?.[0]).toMatch(/glob/);
  });
});

describe('systemd plan', () => {
  it('masks, then enables, then starts, each only when not already so', () => {
    expect(
      planSystemd(
        args({ name: 'x', masked: false, enabled: true, state: 'started' }),
        unit('inactive', 'masked'),
      ).verbs,
    ).toEqual(['unmask', 'enable', 'start']);
    expect(
      planSystemd(args({ name: 'x', enabled: true, state: 'started' }), unit('active', 'enabled')).verbs,
    ).toEqual([]);
  });

  it('reads indirect as not enabled even with is-enabled exit 0, as ansible-core does', () => {
    expect(planSystemd(args({ name: 'x', enabled: true }), unit('inactive', 'indirect', 0)).verbs).toEqual([
      'enable',
    ]);
    expect(planSystemd(args({ name: 'x', enabled: false }), unit('inactive', 'static', 0)).verbs).toEqual([
      'disable',
    ]);
  });

  it('starts a stopped unit on restarted or reloaded, and reports it started', () => {
    const plan = planSystemd(args({ name: 'x', state: 'reloaded' }), unit('inactive', 'enabled'));
    expect(plan).toMatchObject({ verbs: ['start'], state: 'started' });
    expect(planSystemd(args({ name: 'x', state: 'restarted' }), unit('active', 'enabled')).verbs).toEqual([
      'restart',
    ]);
  });

  it('tried-restart restarts only a running unit; stopped also stops a deactivating one', () => {
    expect(
      planSystemd(args({ name: 'x', state: 'tried-restart' }), unit('inactive', 'enabled')),
    ).toMatchObject({
      verbs: [],
      state: 'stopped',
    });
    expect(planSystemd(args({ name: 'x', state: 'stopped' }), unit('deactivating', 'enabled')).verbs).toEqual(
      ['stop'],
    );
  });

  it('shows the unit before and after in --diff', () => {
    const a = args({ name: 'x', state: 'started', masked: true });
    const s = unit('inactive', 'disabled');
    expect(describeUnit(s)).toBe('active: inactive\nenabled: disabled\n');
    expect(describeUnit(s, a, planSystemd(a, s))).toBe('active: active\nenabled: masked\n');
  });
});

describe('systemd probe', () => {
  it('reads show and is-enabled, and knows a unit systemd does not have', () => {
    const s = parseProbe(
      'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n--is-enabled--\nenabled\nrc=0\n',
    );
    expect(s).toEqual({
      status: { LoadState: 'loaded', ActiveState: 'active', UnitFileState: 'enabled' },
      enablement: 'enabled',
      enabledRc: 0,
    });
    const missing = parseProbe('LoadState=not-found\nActiveState=inactive\n--is-enabled--\nrc=4\n');
    expect(unitExists(missing)).toBe(false);
    expect(unitExists(parseProbe('LoadState=masked\n--is-enabled--\nmasked\nrc=1\n'))).toBe(true);
  });
});
