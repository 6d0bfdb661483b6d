import { spawnSync } from 'node:child_process';
import { idConflict } from '../../activities/modules/accounts';
import { commandLine, guardScript, splitWords } from '../../activities/modules/command';
import { editFstab } from '../../activities/modules/mount';
import { planPackages } from '../../activities/modules/package';
import { createdPath, describePath, resolveAttributes } from '../../activities/modules/files';
import { renderArgs } from '../../common/templates';
import { planService } from '../../activities/modules/service';
import { waitScript } from '../../activities/modules/wait-for';
import { attributeChanges } from '../../activities/remote';
import { wrapCommand } from '../../activities/ssh/exec';
import { FileArgs, MountArgs, ServiceArgs, UserArgs, WaitForArgs } from '../../common/modules';

const sh = (line: string) => spawnSync('sh', ['-c', line], { encoding: 'utf8' });

describe('the exec wrapper', () => {
  it('runs the command in its own process group and reports the group id first on stderr', () => {
    const r = sh(wrapCommand(`echo "it's $((1+1))"; echo err >&2; exit 3`));
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("it's 2\n");
    const [first, rest] = r.stderr.split('\n');
    expect(first).toMatch(/^__CLUSTERFLOW_PGID=\d+$/);
    expect(rest).toBe('err');
  });

  it('goes through sudo -n when becoming another user, and sudo -S with a password', () => {
    expect(wrapCommand('id', { user: 'postgres' })).toMatch(/^exec sudo -n -H -u postgres -- sh -c /);
    expect(wrapCommand('id', { user: 'root', password: 'x' })).toMatch(
      /^exec sudo -S -p '' -H -u root -- sh -c /,
    );
  });
});

describe('command and shell', () => {
  it('quotes every word of command, so shell syntax stays literal', () => {
    expect(sh(commandLine('command', { cmd: 'echo "$HOME" "a;b"' })).stdout).toBe('$HOME a;b\n');
    expect(sh(commandLine('shell', { cmd: 'echo $((2*3))' })).stdout).toBe('6\n');
    expect(commandLine('command', { argv: ['ls', '-l'], chdir: '/tmp' })).toBe('cd /tmp && ls -l');
  });

  it('refuses shell operators in command', () => {
    expect(() => splitWords('a | b')).toThrow(/use the shell module/);
  });

  it('skips when creates exists or removes does not', () => {
    expect(sh(guardScript({ creates: '/' })!).stdout).toBe('skip\n');
    expect(sh(guardScript({ removes: '/nonexistent-path' })!).stdout).toBe('skip\n');
    expect(sh(guardScript({ creates: '/nonexistent-path' })!).stdout).toBe('');
    expect(guardScript({})).toBeUndefined();
  });
});

describe('service plan', () => {
  const sd = { init: 'systemd' as const, exists: true };
  it('starts and enables only what is not already so', () => {
    expect(
      planService(
        { name: 'nginx', state: 'started', enabled: true },
        { ...sd, active: false, enabled: false },
      ),
    ).toEqual(['systemctl enable -q nginx', 'systemctl start nginx']);
    expect(
      planService({ name: 'nginx', state: 'started', enabled: true }, { ...sd, active: true, enabled: true }),
    ).toEqual([]);
  });
  it('always restarts on restarted, and reload starts a stopped service', () => {
    expect(planService({ name: 'x', state: 'restarted' }, { ...sd, active: true, enabled: true })).toEqual([
      'systemctl restart x',
    ]);
    expect(planService({ name: 'x', state: 'reloaded' }, { ...sd, active: false, enabled: true })).toEqual([
      'systemctl start x',
    ]);
  });
  it('uses service(8) on sysvinit', () => {
    expect(
      planService(
        { name: 'x', state: 'stopped' },
        { init: 'sysvinit', exists: true, active: true, enabled: false },
      ),
    ).toEqual(['service x stop']);
  });
});

describe('package plan', () => {
  const base = { state: 'present' as const, update_cache: false };
  it('installs only what is missing, in one apt command', () => {
    const plan = planPackages(
      { ...base, names: ['nginx', 'curl'] },
      { manager: 'apt', installed: { curl: '7.88' }, candidates: {} },
    );
    expect(plan.touched).toEqual(['nginx']);
    expect(plan.command).toMatch(/apt-get .* install --no-install-recommends nginx$/);
  });
  it('upgrades for latest only when the candidate differs', () => {
    const s = { manager: 'apt' as const, installed: { curl: '1' }, candidates: { curl: '2' } };
    expect(planPackages({ ...base, state: 'latest', names: ['curl'] }, s).touched).toEqual(['curl']);
    expect(
      planPackages({ ...base, state: 'latest', names: ['curl'] }, { ...s, candidates: { curl: '1' } })
        .command,
    ).toBeUndefined();
  });
  it('removes only installed packages, with dnf on Red Hat', () => {
    const plan = planPackages(
      { ...base, state: 'absent', names: ['a', 'b'] },
      { manager: 'dnf', installed: { b: '1' }, candidates: {} },
    );
    expect(plan.command).toBe('dnf -y remove b');
  });
});

describe('user and group ids', () => {
  it('refuses to renumber an existing account or to take an id someone else has', () => {
    expect(idConflict('user', 'app', 1001, { name: 'app', id: 1002 })).toMatch(
      /exists with id 1002, not 1001/,
    );
    expect(idConflict('group', 'app', 1001, undefined, { name: 'backup', id: 1001 })).toMatch(
      /already belongs to group backup/,
    );
    expect(
      idConflict('user', 'app', 1001, { name: 'app', id: 1001 }, { name: 'app', id: 1001 }),
    ).toBeUndefined();
  });
});

describe('mount: fstab', () => {
  const nfs = MountArgs.parse({
    path: '/srv/data',
    src: 'nfs1:/export',
    fstype: 'nfs',
    opts: '_netdev,hard,vers=4.1',
  });
  it('adds one entry, replaces it when options change, and removes it', () => {
    const added = editFstab('# static\nUUID=x / ext4 defaults 0 1\n', nfs);
    expect(added).toBe(
      '# static\nUUID=x / ext4 defaults 0 1\nnfs1:/export /srv/data nfs _netdev,hard,vers=4.1 0 0\n',
    );
    expect(editFstab(added, nfs)).toBe(added);
    expect(editFstab(added, { ...nfs, opts: '_netdev,soft' })).toContain('/srv/data nfs _netdev,soft 0 0');
    expect(editFstab(added, { ...nfs, state: 'absent' })).toBe('# static\nUUID=x / ext4 defaults 0 1\n');
  });
});

describe('wait_for', () => {
  it('waits on the host itself and exits 3 on timeout', () => {
    const r = spawnSync('sh', [
      '-c',
      waitScript(WaitForArgs.parse({ path: '/nonexistent-path', timeout: 1, sleep: 0.2 })),
    ]);
    expect(r.status).toBe(3);
    const ok = spawnSync('sh', ['-c', waitScript(WaitForArgs.parse({ path: '/etc/hostname', timeout: 1 }))]);
    expect(ok.status).toBe(0);
  });
});

describe('templated arguments', () => {
  it('renders strings with host vars and keeps numbers numeric for whole expressions', () => {
    expect(
      renderArgs(
        { port: '{{ http_port }}', line: 'listen {{ http_port }}', n: [1, '{{ on }}'] },
        { http_port: 8080, on: true },
      ),
    ).toEqual({
      port: 8080,
      line: 'listen 8080',
      n: [1, true],
    });
  });
  it('keeps what a whole expression evaluates to: a templated mode stays the number 493, a string stays a string', () => {
    const vars = { m: 0o755, s: '0644', d: '644', l: ['a', 'b'] };
    expect(renderArgs({ mode: '{{ m }}' }, vars)).toEqual({ mode: 493 });
    expect(FileArgs.parse({ path: '/x', ...(renderArgs({ mode: '{{ m }}' }, vars) as object) }).mode).toBe(
      0o755,
    );
    // As text re-read as a number these would be the decimal 644 (mode 01204) or a JSON error.
    expect(renderArgs({ a: '{{ s }}', b: '{{ d }}' }, vars)).toEqual({ a: '0644', b: '644' });
    expect(FileArgs.parse({ path: '/x', mode: renderArgs('{{ d }}', vars) }).mode).toBe(0o644);
    expect(renderArgs('{{ l }}', vars)).toEqual(['a', 'b']);
    expect(renderArgs('{{ d | int }}', vars)).toBe(644);
    expect(renderArgs('mode {{ m }}', vars)).toBe('mode 493');
  });
  it('fails on an undefined variable instead of writing an empty value', () => {
    expect(() => renderArgs('{{ nope }}', {})).toThrow();
  });
  it('keeps a null whole expression null and prints it as Python does inside text, as ansible-core', () => {
    expect(renderArgs('{{ none }}', { none: null })).toBeNull();
    expect(
      renderArgs('a {{ none }} {{ yes }} {{ list }} {{ map }}', {
        none: null,
        yes: true,
        list: ['x', 1],
        map: { k: false },
      }),
    ).toBe("a None True ['x', 1] {'k': False}");
  });
  it('counts with range as Jinja does, and refuses a range too long to build instead of hanging', () => {
    expect(renderArgs('{% for i in range(3) %}{{ i }}{% endfor %}', {})).toBe('012');
    expect(renderArgs('{{ range(2, 9, 3) }}', {})).toEqual([2, 5, 8]);
    expect(renderArgs('{{ range(3, 0, -1) }}', {})).toEqual([3, 2, 1]);
    expect(renderArgs('{{ range(5, 1) }}', {})).toEqual([]);
    expect(() => renderArgs('{% for i in range(1000000000) %}x{% endfor %}', {})).toThrow(
      /range\(\) would make 1000000000 items; templates may make at most 100000/,
    );
    expect(() => renderArgs('{{ range(0, 5, 0) }}', {})).toThrow(/must not be zero/);
  });
});

describe('file attributes', () => {
  it('lists only the attributes that differ', () => {
    expect(
      attributeChanges(
        { exists: true, owner: 'root', group: 'root', mode: '644' },
        { owner: 'root', mode: '0640'.slice(1) },
      ),
    ).toEqual(['mode 644 -> 640']);
  });
});

describe('file modes against what the host has', () => {
  const file = {
    exists: true,
    kind: 'file' as const,
    owner: 'root',
    group: 'root',
    mode: '600',
    umask: 0o022,
  };
  it('resolves a symbolic mode against the current mode, in the form stat reports', () => {
    expect(resolveAttributes({ mode: 'u=rw,g=r,o=r' }, file).mode).toBe('644');
    expect(resolveAttributes({ mode: 'a+X' }, file).mode).toBe('600');
    expect(resolveAttributes({ mode: 'a+X' }, { ...file, kind: 'directory' }).mode).toBe('711');
    expect(resolveAttributes({ mode: 0o2770 }, file).mode).toBe('2770');
    expect(resolveAttributes({ owner: 'app' }, file)).toEqual({
      owner: 'app',
      group: undefined,
      mode: undefined,
    });
  });
  it('predicts the mode of a path the host creates, for check mode', () => {
    expect(resolveAttributes({ mode: 'g+w' }, createdPath('directory', 0o022)).mode).toBe('775');
    expect(resolveAttributes({ mode: 'u+x' }, createdPath('touched', 0o027)).mode).toBe('740');
    expect(resolveAttributes({ mode: 'o=' }, createdPath('written', 0o077)).mode).toBe('640');
  });
  it('shows modes in the diff as Ansible writes them', () => {
    expect(describePath(file, { mode: '644' })).toBe('file\nmode: 0600');
    expect(describePath({ exists: false }, { mode: '644' })).toBe('absent');
  });
});

describe('module arguments as Ansible converts them', () => {
  it('takes "8080" for a number and "yes" for a flag, as a value templated from an INI inventory arrives', () => {
    expect(WaitForArgs.parse({ port: renderArgs('{{ p }}', { p: '8080' }) }).port).toBe(8080);
    expect(UserArgs.parse({ name: 'app', uid: '1001', system: 'yes' })).toMatchObject({
      uid: 1001,
      system: true,
    });
    expect(ServiceArgs.parse({ name: 'x', enabled: 'False' }).enabled).toBe(false);
    expect(ServiceArgs.parse({ name: 'x', enabled: 1 }).enabled).toBe(true);
  });
  it('still refuses what is neither', () => {
    expect(WaitForArgs.safeParse({ port: '80x' }).error?.issues[0].message).toBe(
      'expected a number, got "80x"',
    );
    expect(WaitForArgs.safeParse({ port: '70000' }).success).toBe(false);
    expect(ServiceArgs.safeParse({ name: 'x', enabled: 'maybe' }).error?.issues[0].message).toMatch(
      /expected a boolean/,
    );
  });
});
