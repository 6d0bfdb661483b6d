import {
  keyLineText,
  parseKeyFileState,
  parseKeyLine,
  parseOptions,
  planAuthorizedKeys,
} from '../../activities/modules/authorized-key';
import { taskArguments } from '../../common/task-arguments';

const OPS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOFH2BIRZkL3WMckzJas6bIoiu3ML2w2D+uSeElcA1s3 ops@lab';
const DEPLOY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICKrh5mRF7dXn9lFF+Qiz3b82NOWJnamkfdfII01L0FB deploy';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCntD9U1in8356UaDVhPp4HaTfPkTvfqa4Qb0i';
const present = { state: 'present' as const, exclusive: false };
const plan = (existing: string, w: Partial<Parameters<typeof planAuthorizedKeys>[1]>) =>
  planAuthorizedKeys(existing, { keys: '', ...present, ...w });

describe('authorized_key lines', () => {
  it('reads options, type, blob and comment; options split at commas outside quotes', () => {
    expect(parseKeyLine(`from="10.0.0.1,10.0.0.2",no-pty,command="echo  hi" ${OPS}  extra\n`, 3)).toEqual({
      type: 'ssh-ed25519',
      blob: OPS.split(' ')[1],
      options: [
        ['from', '"10.0.0.1,10.0.0.2"'],
        ['no-pty', null],
        ['command', '"echo hi"'],
      ],
      comment: 'ops@lab extra',
      rank: 3,
    });
    expect(parseOptions('no-agent-forwarding,environment="A=1",environment="B=2"')).toEqual([
      ['no-agent-forwarding', null],
      ['environment', '"A=1"'],
      ['environment', '"B=2"'],
    ]);
  });

  it('keeps comment lines as they are, and knows no key in a line without a key type', () => {
    expect(parseKeyLine('# managed by hand\n', 0)).toEqual({ raw: '# managed by hand\n', rank: 0 });
    expect(parseKeyLine('not a key\n', 1)).toBeUndefined();
    expect(parseKeyLine('ssh-ed25519\n', 1)).toBeUndefined();
  });

  it('writes a key as ansible.posix does, the blank after the blob kept when there is no comment', () => {
    expect(keyLineText(parseKeyLine(`no-pty,from="x" ${RSA}`, 0)!)).toBe(`no-pty,from="x" ${RSA} \n`);
    expect(keyLineText({ raw: '# last line', rank: 9 })).toBe('# last line\n');
  });
});

describe('authorized_key plan', () => {
  it('adds keys after every line, in the order given, and keeps the other lines in place', () => {
    const existing = `# hand-made\n${RSA} old\n\n`;
    const p = plan(existing, { keys: `${OPS}\n\n# not this\n${DEPLOY}` });
    expect(p).toEqual({ write: true, content: `${existing}${OPS}\n${DEPLOY}\n` });
  });

  it('changes nothing when every key is there with the same type, options and comment', () => {
    const existing = `${OPS}\nno-pty ${DEPLOY}\n`;
    expect(plan(existing, { keys: `no-pty ${DEPLOY}\n${OPS}` })).toEqual({ write: false, content: existing });
    // Given without its options, the key is written without them.
    expect(plan(existing, { keys: DEPLOY })).toEqual({ write: true, content: `${OPS}\n${DEPLOY}\n` });
  });

  it('matches a key by its blob: other options or comment replace it, and it moves to the end', () => {
    const existing = `${OPS}\n${DEPLOY}\n# tail\n`;
    const p = plan(existing, { keys: OPS, keyOptions: 'from="10.77.0.0/24"', comment: 'ops' });
    expect(p).toEqual({
      write: true,
      content: `${DEPLOY}\n# tail\nfrom="10.77.0.0/24" ${OPS.replace('ops@lab', 'ops')}\n`,
    });
    // Options compare by name, not by their order.
    expect(plan(`a,b=1 ${OPS}\n`, { keys: `b=1,a ${OPS}` })).toMatchObject({ write: false });
  });

  it('removes a key by its blob whatever its options and comment, and only that line', () => {
    const existing = `# keep\nno-pty ${OPS}\n${DEPLOY}\n`;
    expect(plan(existing, { keys: OPS.replace('ops@lab', 'other'), state: 'absent' })).toEqual({
      write: true,
      content: `# keep\n${DEPLOY}\n`,
    });
    expect(plan(existing, { keys: RSA, state: 'absent' })).toMatchObject({ write: false });
    expect(plan(existing, { keys: `${DEPLOY}\n${OPS}`, state: 'absent' })).toEqual({
      write: true,
      content: '# keep\n',
    });
  });

  it('exclusive leaves only the keys given, comment lines gone too', () => {
    expect(plan(`# keep?\n${OPS}\n${DEPLOY}\n`, { keys: DEPLOY, exclusive: true })).toEqual({
      write: true,
      content: `${DEPLOY}\n`,
    });
  });

  it('refuses a line that is no key, naming it', () => {
    expect(plan('', { keys: `${OPS}\nAAAA-not-a-key` })).toEqual({
      error: 'invalid key specified: AAAA-not-a-key',
    });
  });
});

describe('authorized_key arguments and host state', () => {
  it('refuses a URL key: the hosts reach only lab addresses', () => {
    const r = taskArguments('authorized_key', { user: 'deploy', key: 'https://203.0.113.7/ops.keys' }, {});
    expect(r.problems?.[0]).toMatch(/a URL key is not supported.*lookup\('file'/);
    expect(
      taskArguments('authorized_key', { user: 'deploy', key: OPS, exclusive: 'yes' }, {}).problems,
    ).toBeUndefined();
  });

  it('reads the passwd entry, the key file, its content and a file:// key from the read report', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const out = [
      'passwd deploy:x:1001:1002:Deploy:/home/deploy:/bin/sh',
      'keyfile /home/deploy/.ssh/authorized_keys',
      'content',
      b64(`${OPS}\n`),
      'keysource',
      b64(DEPLOY),
    ].join('\n');
    expect(parseKeyFileState(out, 'file:///srv/keys/deploy.pub')).toEqual({
      user: { uid: '1001', gid: '1002', home: '/home/deploy' },
      keyfile: '/home/deploy/.ssh/authorized_keys',
      content: `${OPS}\n`,
      notAFile: false,
      keySource: DEPLOY,
    });
    expect(parseKeyFileState('keyfile /x\nkeysourcemissing\n', 'file:///srv/k.pub').keySource).toEqual({
      error: 'Path to a key file not found: /srv/k.pub',
    });
  });
});
