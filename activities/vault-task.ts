import type { ModuleResult } from '../common/modules';
import type { SecretRef } from '../common/secrets';
import {
  containsVaulted,
  mapVaulted,
  revealsSecret,
  scrubSecrets,
  secretForms,
  type VaultedValue,
} from '../common/vaulted';
import { resolveSecret } from './secrets';
import type { TaskInput } from './tasks';
import { decryptVault, encryptVault, parseEnvelope, vaultPassword, VaultError } from './vault';

// A task's vaulted values, opened on the worker for the one task that runs with them: its
// arguments are rendered with the plaintext, and every plaintext is scrubbed out of what the task
// reports (message, output, diff, data, loop results, an error) before it leaves the activity.
// A fact that holds one (set_fact, include_vars) is sealed again, so later tasks still have it.

interface Opened {
  plaintext: unknown;
  /** The forms its text takes in output, to be scrubbed. */
  forms: string[];
  source: VaultedValue;
}

/**
 * The leaf strings of an opened value: a mapping from an encrypted file is scrubbed leaf by leaf.
 * A number counts from four digits on (a PIN), not below, where it would mask every small count.
 */
function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return String(value).length >= 4 ? [String(value)] : [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}

class VaultedTask {
  private readonly passwords = new Map<SecretRef, Buffer>();
  private readonly opened = new Map<string, Opened>();

  private async password(ref: SecretRef): Promise<Buffer> {
    let pw = this.passwords.get(ref);
    if (!pw) {
      pw = vaultPassword(await resolveSecret(ref, 'vault password'));
      this.passwords.set(ref, pw);
    }
    return pw;
  }

  /** Opens every vaulted value in `value` (a value's plaintext may hold vaulted values again). */
  async openAll(value: unknown, where: string): Promise<void> {
    const found: { v: VaultedValue; at: string }[] = [];
    mapVaulted(value, (v, at) => found.push({ v, at }));
    for (const { v, at } of found) {
      if (this.opened.has(v.__ansible_vault)) continue;
      const what = `${where}${at ? `.${at}` : ''}`;
      if (!v.vault_secret)
        throw new VaultError(
          `${what}: a vaulted value without its password reference (the client stamps it)`,
        );
      let text: string;
      try {
        text = decryptVault(v.__ansible_vault, await this.password(v.vault_secret)).toString('utf8');
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        throw new VaultError(`${what}: ${err.message} with ${v.vault_secret} on the worker`);
      }
      let plaintext: unknown = text;
      try {
        if (v.vault_json) plaintext = JSON.parse(text);
      } catch {
        // JSON.parse quotes the text it could not read: say what, not where.
        throw new VaultError(`${what}: opened, but it holds no JSON value`);
      }
      this.opened.set(v.__ansible_vault, {
        plaintext,
        forms: [...leaves(plaintext), ...(v.vault_json ? [text] : [])].flatMap(secretForms),
        source: v,
      });
      if (v.vault_json && containsVaulted(plaintext)) await this.openAll(plaintext, what);
    }
  }

  /** `value` with every vaulted value replaced by its plaintext. */
  reveal(value: unknown): unknown {
    return mapVaulted(value, (v) => this.reveal(this.opened.get(v.__ansible_vault)!.plaintext));
  }

  get secrets(): string[] {
    return [...this.opened.values()].flatMap((o) => o.forms);
  }

  /** A fact holding a secret, sealed: the same envelope when it is exactly an opened value. */
  private async reseal(value: unknown): Promise<unknown> {
    const same = [...this.opened.values()].find(
      (o) => JSON.stringify(this.reveal(o.plaintext)) === JSON.stringify(value),
    );
    if (same) return same.source;
    const first = [...this.opened.values()][0].source;
    const ref = first.vault_secret!;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return {
      __ansible_vault: encryptVault(
        text,
        await this.password(ref),
        parseEnvelope(first.__ansible_vault).vaultId,
      ),
      vault_secret: ref,
      ...(typeof value === 'string' ? {} : { vault_json: true }),
    } satisfies VaultedValue;
  }

  /** What the task reports, with no plaintext left in it. */
  async sealed(result: ModuleResult): Promise<ModuleResult> {
    const { ansibleFacts, ...rest } = result;
    const secrets = this.secrets;
    const out = scrubSecrets(rest, secrets) as ModuleResult;
    if (ansibleFacts) {
      const facts: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(ansibleFacts))
        facts[k] = revealsSecret(v, secrets) ? await this.reseal(v) : v;
      out.ansibleFacts = facts;
    }
    return out;
  }

  /** An error's message and stack (Temporal keeps both in history), scrubbed along its causes. */
  scrubError(err: unknown): unknown {
    for (
      let e = err as Error | undefined, depth = 0;
      e instanceof Error && depth < 10;
      e = e.cause as Error, depth++
    ) {
      e.message = scrubSecrets(e.message, this.secrets);
      if (e.stack) e.stack = scrubSecrets(e.stack, this.secrets);
    }
    return err;
  }
}

/**
 * Runs a task with its vaulted values opened, and reports it with them scrubbed. A task without
 * any runs as it is. A value the worker cannot open fails the task, naming the variable.
 */
export async function withVaultOpened(
  input: TaskInput,
  run: (opened: TaskInput) => Promise<ModuleResult>,
): Promise<ModuleResult> {
  if (!containsVaulted([input.vars, input.learned, input.args, input.control])) return run(input);
  const task = new VaultedTask();
  try {
    await task.openAll(input.vars, 'vars');
    await task.openAll(input.learned, 'vars');
    await task.openAll(input.args, input.module);
    await task.openAll(input.control, 'task');
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    return { changed: false, failed: true, msg: err.message };
  }
  const opened: TaskInput = {
    ...input,
    vars: task.reveal(input.vars) as TaskInput['vars'],
    ...(input.learned ? { learned: task.reveal(input.learned) as TaskInput['vars'] } : {}),
    args: task.reveal(input.args),
    ...(input.control ? { control: task.reveal(input.control) as TaskInput['control'] } : {}),
  };
  let result: ModuleResult;
  try {
    result = await run(opened);
  } catch (err) {
    throw task.scrubError(err);
  }
  return task.sealed(result);
}
