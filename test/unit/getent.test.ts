import { getentCommand, parseGetent } from '../../activities/modules/getent';
import { withModuleFacts } from '../../common/ansible-facts';
import { GetentArgs } from '../../common/modules';

describe('getent', () => {
  it('keys passwd entries by name, the other fields colon-split', () => {
    expect(
      parseGetent('root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n', {
        database: 'passwd',
      }),
    ).toEqual({
      root: ['x', '0', '0', 'root', '/root', '/bin/bash'],
      'www-data': ['x', '33', '33', '', '/var/www', '/usr/sbin/nologin'],
    });
  });

  it('splits other databases at runs of whitespace, or at the split given', () => {
    expect(parseGetent('ssh                  22/tcp\n', { database: 'services' })).toEqual({
      ssh: ['22/tcp'],
    });
    expect(parseGetent('ssh 22/tcp\n', { database: 'services', split: '/' })).toEqual({ 'ssh 22': ['tcp'] });
  });

  it('lists every entry of a key seen more than once (ansible-core 2.11+)', () => {
    expect(parseGetent('::1 localhost\n::1 ip6-localhost\n::1 x\n', { database: 'hosts' })).toEqual({
      '::1': [['localhost'], ['ip6-localhost'], ['x']],
    });
  });

  it('asks getent for one key, with a service, every word quoted', () => {
    expect(getentCommand(GetentArgs.parse({ database: 'passwd', key: "o'brien", service: 'files' }))).toBe(
      "getent passwd 'o'\\''brien' -s files",
    );
    expect(GetentArgs.safeParse({ database: 'passwd', split: '' }).success).toBe(false);
  });

  it('puts a module fact both in the variables and in ansible_facts; set_fact only in the variables', () => {
    const before = { ansible_facts: { hostname: 'node1' } };
    const after = withModuleFacts(before, 'getent', { getent_passwd: { root: [] } });
    expect(after).toEqual({
      getent_passwd: { root: [] },
      ansible_facts: { hostname: 'node1', getent_passwd: { root: [] } },
    });
    expect(withModuleFacts(before, 'set_fact', { x: 1 })).toEqual({ ...before, x: 1 });
  });
});
