import { planReplace } from '../../activities/modules/replace';
import { ReplaceArgs } from '../../common/modules';

const hosts = '127.0.0.1 localhost\n# keep localhost\n[section]\nlocalhost\n[other]\nlocalhost\n';

describe('replace', () => {
  it('replaces every match in the file and says how many, and a second run changes nothing', () => {
    const plan = planReplace({ regexp: '^PermitRootLogin .*$', replace: 'PermitRootLogin no' });
    const once = plan('PermitRootLogin yes\nPort 22\nPermitRootLogin prohibit-password\n');
    expect(once).toEqual({
      text: 'PermitRootLogin no\nPort 22\nPermitRootLogin no\n',
      count: 2,
      msg: '2 replacements made',
    });
    expect(plan(once.text)).toEqual({ text: once.text, count: 0, msg: '' });
  });

  it('counts nothing when every replacement leaves the text as it was', () => {
    expect(planReplace({ regexp: 'a', replace: 'a' })('aaa').count).toBe(0);
  });

  it('replaces only between after and the next before', () => {
    const plan = planReplace({
      regexp: 'localhost',
      replace: 'node1',
      after: '\\[section\\]',
      before: '\\[other\\]',
    });
    expect(plan(hosts).text).toBe(
      '127.0.0.1 localhost\n# keep localhost\n[section]\nnode1\n[other]\nlocalhost\n',
    );
  });

  it('replaces from after to the end, or from the start to before', () => {
    expect(planReplace({ regexp: 'localhost', replace: 'x', after: '\\[other\\]' })(hosts).count).toBe(1);
    expect(planReplace({ regexp: 'localhost', replace: 'x', before: '\\[section\\]' })(hosts).count).toBe(2);
  });

  it('leaves the file when after/before do not match, saying so as ansible-core does', () => {
    const r = planReplace({ regexp: 'localhost', replace: 'x', after: 'nowhere' })(hosts);
    expect(r).toEqual({
      text: hosts,
      count: 0,
      msg: 'Pattern for before/after params did not match the given file: nowhere(?P<subsection>.*)',
    });
  });

  it('takes ansible-core aliases of path, and refuses a bad pattern before reading the file', () => {
    expect(ReplaceArgs.parse({ dest: '/etc/hosts', regexp: 'a' })).toMatchObject({
      path: '/etc/hosts',
      replace: '',
    });
    expect(ReplaceArgs.safeParse({ dest: '/a', path: '/b', regexp: 'a' }).success).toBe(false);
    expect(() => planReplace({ regexp: '(a', replace: '' })).toThrow(/a/);
  });
});
