import { ModuleArgs } from '../../common/modules';
import { timesScript, wantedTimes } from '../../activities/modules/file-times';

// The file module's modification_time and access_time, with Ansible's defaults.

describe('file times', () => {
  it('touches both times by default for state=touch and none for the other states', () => {
    expect(wantedTimes({ state: 'touch' }).map((t) => `${t.flag} ${t.value}`)).toEqual(['-m now', '-a now']);
    expect(wantedTimes({ state: 'directory' })).toEqual([]);
    expect(wantedTimes({ state: 'touch', modification_time: 'preserve', access_time: 'preserve' })).toEqual(
      [],
    );
    expect(wantedTimes({ state: 'file', modification_time: '202601020304.05' })).toEqual([
      { flag: '-m', what: 'modification time', value: '202601020304.05' },
    ]);
  });

  it('sets an explicit time only when the path has another, and never in check mode', () => {
    const [t] = wantedTimes({ state: 'file', modification_time: '202601020304.05' });
    const real = timesScript("/srv/it's", [t], false);
    expect(real).toContain('touch -t 202601020304.05 -- "$ref"');
    expect(real).toMatch(
      /if \[ "\$\(stat -c %Y -- '\/srv\/it'\\''s'\)" != .*then touch -m -t 202601020304\.05 -- /,
    );
    expect(timesScript('/srv/x', [t], true)).not.toMatch(/then touch/);
  });

  it('accepts SELinux options and refuses times in another format or on a link', () => {
    const parse = (a: object) => ModuleArgs.file.safeParse(a);
    expect(parse({ path: '/d', state: 'directory', setype: 'mysqld_db_t' }).success).toBe(true);
    expect(parse({ path: '/f', state: 'touch', modification_time: 'yesterday' }).success).toBe(false);
    expect(parse({ path: '/f', state: 'touch', modification_time_format: '%Y' }).success).toBe(false);
    expect(parse({ path: '/l', state: 'link', src: '/f', access_time: 'now' }).success).toBe(false);
  });
});
