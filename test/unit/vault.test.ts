import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshPool } from '../../activities/ssh/pool';
import { runTask } from '../../activities/tasks';
import { encryptVault, vaultPassword } from '../../activities/vault';
import { withVaultOpened } from '../../activities/vault-task';
import { loadInventory, targetFor } from '../../client/inventory';
import { loadPlaybook, PlaybookError } from '../../client/play';
import { parseExtraVars } from '../../client/playbook-flags';
import { useVaultSecrets, vaultSecretsFromFlags, VaultOpenError, type VaultSecret } from '../../client/vault';
import { parseAnsibleYaml } from '../../client/yaml';
import type { PlayInput } from '../../common/play';
import { isVaulted, REDACTED, scrubSecrets, secretForms } from '../../common/vaulted';

// Vault end to end without a host: the client reads `!vault` values and encrypted files into
// ciphertext plus a password reference, and the worker opens them for one task and scrubs them
// from its result. The fixtures come from the real ansible-vault (test/fixtures/vault).

const fixtures = path.join(__dirname, '../fixtures/vault');
const playDir = path.join(fixtures, 'play');
const PLAINTEXTS = ['tok-9f3b2c7e1a', 'db-pw-71c2e9', 'inline-0d5e8a3f', 'cf_app_user'];
const dir = mkdtempSync(path.join(tmpdir(), 'cf-vault-unit-'));
const inventoryFile = path.join(dir, 'hosts.ini');
writeFileSync(inventoryFile, 'node2 ansible_host=10.1.0.2\n');

const bothPasswords = (): VaultSecret[] =>
  vaultSecretsFromFlags({
    vaultPasswordFile: [path.join(fixtures, 'test-password')],
    vaultId: [`prod@${path.join(fixtures, 'prod-password')}`],
  });

function load(file = path.join(playDir, 'site.yml'), secrets = bothPasswords()): PlayInput {
  useVaultSecrets(secrets);
  return loadPlaybook(file, loadInventory(inventoryFile), {
    check: false,
    diff: true,
    tags: [],
    forks: 5,
    cluster: 'x',
  });
}

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

afterEach(() => useVaultSecrets([]));

describe('!vault in YAML', () => {
  it('reads an inline value as an opaque vaulted value: the ciphertext only', () => {
    const doc = parseAnsibleYaml(readFileSync(path.join(playDir, 'site.yml'), 'utf8')) as {
      vars: Record<string, unknown>;
    }[];
    const value = doc[0].vars.cf_vault_inline;
    expect(isVaulted(value)).toBe(true);
    expect(Object.keys(value as object)).toEqual(['__ansible_vault']);
    expect((value as { __ansible_vault: string }).__ansible_vault).toMatch(
      /^\$ANSIBLE_VAULT;1\.1;AES256\n[0-9a-f\n]+$/,
    );
  });

  it('refuses a !vault tag on text that is not a vault, with the line', () => {
    expect(errorOf(() => parseAnsibleYaml('a: 1\nb: !vault hello\n')).message).toMatch(
      /^!vault: the value is not an ansible-vault envelope .* at line 2/,
    );
  });
});

describe('the client', () => {
  it('carries ciphertext and password references in the workflow input, never a plaintext', () => {
    const input = load();
    const text = JSON.stringify(input);
    for (const p of PLAINTEXTS) expect(text).not.toContain(p);
    const vars = input.plays[0].hosts[0].vars;
    // The encrypted file's names are known; each value sealed on its own, with the reference that opens it.
    for (const name of ['cf_vault_inline', 'cf_vault_token', 'cf_vault_db'])
      expect(isVaulted(vars[name])).toBe(true);
    expect(vars.cf_vault_inline).toMatchObject({
      vault_secret: `file:${path.join(fixtures, 'test-password')}`,
    });
    expect(vars.cf_vault_token).toMatchObject({
      vault_secret: `file:${path.join(fixtures, 'prod-password')}`,
    });
    expect((vars.cf_vault_token as { __ansible_vault: string }).__ansible_vault).toMatch(
      /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/,
    );
    expect(vars.cf_vault_db).toMatchObject({ vault_json: true });
    expect(text).not.toContain('cf-vault-test-password');
  });

  it('checks a task that uses a vaulted value only for its keys before the run, as one the run fills in', () => {
    const copy = mkdtempSync(path.join(dir, 'preflight-'));
    for (const f of ['site.yml', 'secrets.yml', 'secret.conf.j2'])
      copyFileSync(path.join(playDir, f), path.join(copy, f));
    const file = path.join(copy, 'site.yml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        // A number option from a vaulted text: only the worker can tell whether it is one.
        '    - name: from the vault\n      wait_for: { port: "{{ cf_vault_token }}", timeout: 1 }\n' +
        '    - name: not a module option\n      file: { path: "{{ cf_vault_token }}", bogus: 1 }\n',
    );
    const err = errorOf(() => load(file));
    // The number option waits for the worker; the unknown key is refused now, and only it.
    expect((err as PlaybookError).problems).toEqual([
      expect.stringMatching(
        /^site\.yml: play 1 \("vault on a lab host"\) task 9 \("not a module option"\) on node2: file\.bogus: unknown key/,
      ),
    ]);
  });

  it('names the variable when no password given opens an inline value', () => {
    const wrong = path.join(dir, 'wrong-password');
    writeFileSync(wrong, 'not it\n');
    const err = errorOf(() =>
      load(
        undefined,
        vaultSecretsFromFlags({
          vaultPasswordFile: [wrong],
          vaultId: [`prod@${path.join(fixtures, 'prod-password')}`],
        }),
      ),
    );
    expect(err).toBeInstanceOf(VaultOpenError);
    expect(err.message).toBe(
      'site.yml: play 1 ("vault on a lab host"): host node2: variable cf_vault_inline: no vault password given opens it: wrong password? (tried vault ids: default, prod)',
    );
  });

  it('names the file when no password given opens an encrypted vars file', () => {
    const err = errorOf(() =>
      load(undefined, vaultSecretsFromFlags({ vaultPasswordFile: [path.join(fixtures, 'test-password')] })),
    );
    expect(err.message).toBe(
      `site.yml: play 1 ("vault on a lab host"): vars_files: ${path.join(playDir, 'secrets.yml')}: no vault password given opens it (vault id prod): wrong password? (tried vault ids: default)`,
    );
  });

  it('says a password is needed when none was given', () => {
    expect(errorOf(() => load(undefined, [])).message).toMatch(
      /secrets\.yml: encrypted with ansible-vault, and no vault password was given \(--vault-password-file or --vault-id\)$/,
    );
  });

  it('reads encrypted group_vars, host_vars, role vars, include_vars and -e @file the same way', () => {
    const root = mkdtempSync(path.join(dir, 'layout-'));
    const pw = vaultPassword(readFileSync(path.join(fixtures, 'test-password')));
    const sealedFile = (file: string, yaml: string) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, encryptVault(yaml, pw));
    };
    writeFileSync(path.join(root, 'hosts.ini'), '[web]\nnode2 ansible_host=10.1.0.2\n');
    sealedFile(path.join(root, 'group_vars/web.yml'), 'group_secret: g-secret-1\n');
    sealedFile(path.join(root, 'host_vars/node2.yml'), 'host_secret: h-secret-2\n');
    sealedFile(path.join(root, 'roles/r/vars/main.yml'), 'role_secret: r-secret-3\n');
    sealedFile(path.join(root, 'roles/r/defaults/main.yml'), 'role_default: d-secret-4\n');
    mkdirSync(path.join(root, 'roles/r/tasks'));
    writeFileSync(path.join(root, 'roles/r/tasks/main.yml'), '- debug: var=role_secret\n');
    sealedFile(path.join(root, 'more.yml'), 'included_secret: i-secret-5\n');
    sealedFile(path.join(root, 'extra.yml'), 'extra_secret: e-secret-6\n');
    writeFileSync(
      path.join(root, 'site.yml'),
      '- hosts: web\n  roles: [r]\n  tasks:\n    - include_vars: more.yml\n    - debug: msg="{{ group_secret }} {{ host_secret }} {{ extra_secret }}"\n',
    );
    useVaultSecrets(vaultSecretsFromFlags({ vaultPasswordFile: [path.join(fixtures, 'test-password')] }));
    const extraVars = parseExtraVars([`@${path.join(root, 'extra.yml')}`]);
    const input = loadPlaybook(path.join(root, 'site.yml'), loadInventory(path.join(root, 'hosts.ini')), {
      check: false,
      diff: false,
      tags: [],
      forks: 5,
      cluster: 'x',
      extraVars,
    });
    const text = JSON.stringify(input);
    for (let i = 1; i <= 6; i++) expect(text).not.toContain(`secret-${i}`);
    const play = input.plays[0];
    const vars = play.hosts[0].vars;
    for (const n of ['group_secret', 'host_secret', 'extra_secret']) expect(isVaulted(vars[n])).toBe(true);
    const roleTask = play.tasks.find((t) => t.role === 'r')!;
    expect(isVaulted(roleTask.control?.vars?.role_secret)).toBe(true);
    expect(isVaulted(roleTask.control?.defaults?.role_default)).toBe(true);
    const included = play.tasks.find((t) => t.module === 'set_fact')!;
    expect(isVaulted(included.args.included_secret)).toBe(true);
  });
});

describe('password flags', () => {
  it('reads --vault-password-file and --vault-id [label@]source into references', () => {
    const pw = path.join(fixtures, 'test-password');
    const rel = path.relative(process.cwd(), pw);
    expect(
      vaultSecretsFromFlags({
        vaultPasswordFile: [rel, 'env:CF_VAULT_PW'],
        vaultId: [`dev@${pw}`, pw, 'ops@env:OPS_PW'],
      }),
    ).toEqual([
      { id: 'default', ref: `file:${pw}` },
      { id: 'default', ref: 'env:CF_VAULT_PW' },
      { id: 'dev', ref: `file:${pw}` },
      { id: 'default', ref: `file:${pw}` },
      { id: 'ops', ref: 'env:OPS_PW' },
    ]);
  });

  it('refuses a prompt, a missing file and a password script, each by name', () => {
    const script = path.join(dir, 'pw.sh');
    writeFileSync(script, '#!/bin/sh\necho pw\n');
    chmodSync(script, 0o755);
    expect(() => vaultSecretsFromFlags({ vaultId: ['dev@prompt'] })).toThrow(
      /asking for the password is not supported/,
    );
    expect(() => vaultSecretsFromFlags({ vaultPasswordFile: [path.join(dir, 'nope')] })).toThrow(
      /nope: ENOENT/,
    );
    expect(() => vaultSecretsFromFlags({ vaultPasswordFile: [script] })).toThrow(
      /executable password script is not supported yet/,
    );
  });

  it('reads a password from the environment when given as env:NAME', () => {
    process.env.CF_VAULT_UNIT_PW = readFileSync(path.join(fixtures, 'test-password'), 'utf8');
    copyFileSync(path.join(playDir, 'site.yml'), path.join(dir, 'inline-only.yml'));
    // Without the vars file, the inline value alone: opened with the environment's password.
    const text = readFileSync(path.join(dir, 'inline-only.yml'), 'utf8').replace(
      / {2}vars_files:\n {4}- secrets.yml\n/,
      '',
    );
    writeFileSync(path.join(dir, 'inline-only.yml'), text.replace(/- name: read it back[\s\S]*/, ''));
    const input = load(
      path.join(dir, 'inline-only.yml'),
      vaultSecretsFromFlags({ vaultPasswordFile: ['env:CF_VAULT_UNIT_PW'] }),
    );
    expect(input.plays[0].hosts[0].vars.cf_vault_inline).toMatchObject({
      vault_secret: 'env:CF_VAULT_UNIT_PW',
    });
  });
});

describe('the worker', () => {
  const noConnections = {} as SshPool;
  const input = load();
  const host = input.plays[0].hosts[0];
  const task = (name: string) => input.plays[0].tasks.find((t) => t.name === name)!;
  const run = (module: string, args: Record<string, unknown>, vars = host.vars) =>
    runTask(noConnections, {
      host: targetFor(loadInventory(inventoryFile), 'node2'),
      module: module as never,
      args,
      vars,
      check: false,
      diff: true,
    });

  it('opens vaulted values for the task and scrubs them from its result', async () => {
    const shown = await run('debug', task('show the token').args);
    expect(shown).toMatchObject({
      msg: `cf_vault_token: ${REDACTED}`,
      data: { cf_vault_token: REDACTED },
    });
    const all = await run('debug', { msg: '{{ cf_vault_db }} {{ cf_vault_inline }}' });
    for (const p of PLAINTEXTS) expect(JSON.stringify(all)).not.toContain(p);
    expect(all.msg).toContain(REDACTED);
  });

  it('evaluates conditions on the plaintext', async () => {
    expect(await run('assert', task('the secrets are what the files say').args)).toMatchObject({
      msg: 'All assertions passed',
    });
    const wrong = await run('assert', { that: ["cf_vault_token == 'something else'"] });
    expect(wrong.failed).toBe(true);
  });

  it('scrubs a failure message, and an error from the message to the stack', async () => {
    const failed = await run('fail', { msg: 'token was {{ cf_vault_token }}' });
    expect(failed).toMatchObject({ failed: true, msg: `token was ${REDACTED}` });
    const thrown = await withVaultOpened(
      {
        host: targetFor(loadInventory(inventoryFile), 'node2'),
        module: 'debug',
        args: {},
        vars: host.vars,
        check: false,
        diff: false,
      },
      async (opened) => {
        throw new Error(`cannot use ${String(opened.vars.cf_vault_token)}`);
      },
    ).catch((err: Error) => err);
    expect((thrown as Error).message).toBe(`cannot use ${REDACTED}`);
    expect((thrown as Error).stack).toContain(`cannot use ${REDACTED}`);
    expect((thrown as Error).stack).not.toContain('tok-9f3b2c7e1a');
  });

  it('seals a fact that holds a secret again, so a later task still has it', async () => {
    const setFact = await run('set_fact', task('derive a value').args);
    expect(JSON.stringify(setFact)).not.toContain('tok-9f3b2c7e1a');
    const derived = setFact.ansibleFacts?.cf_vault_derived;
    expect(isVaulted(derived)).toBe(true);
    const later = await run(
      'assert',
      { that: ["cf_vault_derived == cf_vault_token ~ '-derived'"] },
      { ...host.vars, cf_vault_derived: derived },
    );
    expect(later.msg).toBe('All assertions passed');
    // A fact that is exactly a vaulted value keeps its envelope (include_vars of an encrypted file).
    const same = await run('set_fact', { again: '{{ cf_vault_token }}' });
    expect(same.ansibleFacts?.again).toEqual(host.vars.cf_vault_token);
  });

  it('fails the task, naming the variable, when the worker cannot open a value', async () => {
    const elsewhere = path.join(dir, 'other-password');
    writeFileSync(elsewhere, 'not the same\n');
    const vars = {
      ...host.vars,
      cf_vault_inline: { ...(host.vars.cf_vault_inline as object), vault_secret: `file:${elsewhere}` },
    };
    expect(await run('debug', { msg: 'hi' }, vars)).toEqual({
      changed: false,
      failed: true,
      msg: `vars.cf_vault_inline: wrong vault password (the HMAC does not match) with file:${elsewhere} on the worker`,
    });
  });
});

describe('scrubbing', () => {
  it('replaces every form of a secret in every string, keys too, the longest first', () => {
    const secrets = [
      ...secretForms('pa"ss'),
      ...secretForms('pa"ss-longer'),
      ...secretForms('line one\nline two\n'),
    ];
    expect(
      scrubSecrets(
        {
          msg: 'x pa"ss-longer y pa"ss',
          data: { 'pa"ss': ['{"p": "pa\\"ss"}'] },
          diff: { after: 'line two only' },
          rc: 0,
        },
        secrets,
      ),
    ).toEqual({
      msg: `x ${REDACTED} y ${REDACTED}`,
      data: { [REDACTED]: [`{"p": "${REDACTED}"}`] },
      diff: { after: `${REDACTED} only` },
      rc: 0,
    });
  });

  it('leaves a value without secrets as it is', () => {
    const value = { msg: 'nothing to hide', n: 1 };
    expect(scrubSecrets(value, [])).toBe(value);
    expect(scrubSecrets(value, ['', 'absent'])).toEqual(value);
  });
});
