import { FailureTypes } from '../common/errors';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  type ActivationOutcome,
  type LicenseDriver,
  type LicenseNode,
  type LicenseState,
} from '../common/license';
import { Remote } from './remote';
import { resolveSecret } from './secrets';
import type { SshPool } from './ssh/pool';
import { shellQuote } from './ssh/quote';

// Per-node license activation, two drivers: the product's own command over SSH, or a licensing
// service over HTTP with the node's fingerprint. The key is resolved here, reaches the product
// only on stdin (or a root-only file) and is cut out of every message that could land in history.

interface Call {
  node: LicenseNode;
  driver: LicenseDriver;
}

/** What an activity attempt has done so far, kept in its heartbeat so a retry can see it. */
interface Progress {
  activateSent?: boolean;
}

const expiryIn = (text: string) => /\b(\d{4}-\d{2}-\d{2})\b/.exec(text)?.[1];

function unavailable(node: string, what: string): ApplicationFailure {
  return ApplicationFailure.retryable(`${node}: ${what}`, FailureTypes.LicenseServiceUnavailable);
}

/** One node's license through its driver; every answer already has the key cut out. */
class NodeLicense {
  private readonly remote: Remote;
  private key?: string;
  /** Read once per activity: check, activate and verify all send it. */
  private fingerprint?: string;

  constructor(
    pool: SshPool,
    private readonly call: Call,
    onTick: () => void,
    signal?: AbortSignal,
  ) {
    this.remote = new Remote(pool, call.node.target, { signal, onTick });
  }

  private get name() {
    return this.call.node.name;
  }

  private async secret(): Promise<string> {
    this.key ??= (await resolveSecret(this.call.node.key, `license key of ${this.name}`)).toString().trim();
    return this.key;
  }

  /** Whatever a product or service prints, without the key. */
  private clean(text: string): string {
    const t = text.trim().slice(0, 500);
    return this.key ? t.split(this.key).join('[key]') : t;
  }

  async check(): Promise<LicenseState> {
    const { driver } = this.call;
    if (driver.driver === 'command') {
      const c = driver.command!;
      const r = await this.remote.run(c.check);
      if (r.exitCode === 0) return { active: true, expires: expiryIn(r.stdout) };
      if (c.notActiveExitCodes.includes(r.exitCode ?? -1)) return { active: false };
      throw unavailable(this.name, `license check exit ${r.exitCode}: ${this.clean(r.stderr || r.stdout)}`);
    }
    const { status, body } = await this.http('status');
    if (status !== 200) throw unavailable(this.name, `license status: HTTP ${status} ${this.clean(body)}`);
    const parsed = JSON.parse(body) as { active?: boolean; expires?: string };
    return { active: parsed.active === true, expires: parsed.expires };
  }

  async activate(): Promise<void> {
    const { driver } = this.call;
    const key = await this.secret();
    if (driver.driver === 'command') {
      const c = driver.command!;
      let r;
      if (c.keyVia === 'stdin') r = await this.remote.run(c.activate, { stdin: `${key}\n` });
      else {
        // A root-only file that lives only as long as the command: written through stdin, never argv.
        const file = `/run/clusterflow-license-${process.pid}-${Date.now()}.key`;
        await this.remote.writeFile(file, `${key}\n`, { mode: '0600' });
        r = await this.remote.run(
          `${c.activate.split('{keyFile}').join(shellQuote(file))}; rc=$?; rm -f ${shellQuote(file)}; exit $rc`,
        );
      }
      if (r.exitCode === 0) return;
      const why = this.clean(r.stderr || r.stdout);
      if (c.refusedExitCodes.includes(r.exitCode ?? -1))
        throw ApplicationFailure.nonRetryable(`${this.name}: refused: ${why}`, FailureTypes.LicenseRefused);
      throw unavailable(this.name, `license activate exit ${r.exitCode}: ${why}`);
    }
    const { status, body } = await this.http('activate');
    if (status === 200) return;
    let why = body;
    try {
      why = (JSON.parse(body) as { error?: string }).error ?? body;
    } catch {
      // not JSON: keep the text
    }
    if (status === 403 || status === 404)
      throw ApplicationFailure.nonRetryable(
        `${this.name}: refused (HTTP ${status}): ${this.clean(why)}`,
        FailureTypes.LicenseRefused,
      );
    throw unavailable(this.name, `license activate: HTTP ${status} ${this.clean(why)}`);
  }

  async deactivate(): Promise<boolean> {
    const { driver } = this.call;
    if (driver.driver === 'command') {
      const r = await this.remote.run(driver.command!.deactivate, {
        stdin: driver.command!.keyVia === 'stdin' ? `${await this.secret()}\n` : undefined,
      });
      if (r.exitCode !== 0)
        throw unavailable(
          this.name,
          `license deactivate exit ${r.exitCode}: ${this.clean(r.stderr || r.stdout)}`,
        );
      return true;
    }
    const { status, body } = await this.http('deactivate');
    if (status !== 200)
      throw unavailable(this.name, `license deactivate: HTTP ${status} ${this.clean(body)}`);
    return (JSON.parse(body) as { released?: boolean }).released !== false;
  }

  /** POST {key, fingerprint} to the service, from the node (curl, body on stdin) or from the worker. */
  private async http(path: 'activate' | 'deactivate' | 'status'): Promise<{ status: number; body: string }> {
    const http = this.call.driver.http!;
    this.fingerprint ??= (await this.remote.must(http.fingerprint, 'reading the fingerprint')).stdout.trim();
    const fingerprint = this.fingerprint;
    if (!fingerprint)
      throw ApplicationFailure.nonRetryable(
        `${this.name}: the fingerprint command printed nothing`,
        FailureTypes.BadInput,
      );
    const body = JSON.stringify({ key: await this.secret(), fingerprint });
    const url = `${http.endpoint.replace(/\/$/, '')}/${path}`;
    if (http.from === 'worker') {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(15_000),
        });
        return { status: res.status, body: await res.text() };
      } catch (err) {
        throw unavailable(
          this.name,
          `licensing service at ${http.endpoint}: ${(err as Error).cause ?? (err as Error).message}`,
        );
      }
    }
    const r = await this.remote.run(
      `curl -sS -m 15 -X POST -H 'Content-Type: application/json' --data-binary @- -w '\\n%{http_code}' ${shellQuote(url)}`,
      { stdin: body },
    );
    if (r.exitCode !== 0)
      throw unavailable(
        this.name,
        `licensing service at ${http.endpoint}: ${this.clean(r.stderr) || `curl exit ${r.exitCode}`}`,
      );
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n') };
  }
}

export function createLicenseActivities(pool: SshPool) {
  const open = (call: Call, progress: Progress = {}) => {
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {
      ctx = undefined;
    }
    // Every heartbeat carries the progress, so a long command's ticks never erase it.
    return new NodeLicense(pool, call, () => ctx?.heartbeat(progress), ctx?.cancellationSignal);
  };

  return {
    async licenseCheck(call: Call): Promise<LicenseState> {
      return open(call).check();
    },

    /**
     * Check, activate, verify. A node that is already active is left alone (unless `force`), so a
     * retry after a crash or a lost answer never activates a node twice: the check comes first.
     */
    async licenseActivate(
      call: Call & { force: boolean },
    ): Promise<{ outcome: Exclude<ActivationOutcome, 'failed'>; expires?: string }> {
      let previous: Progress | undefined;
      try {
        previous = Context.current().info.heartbeatDetails as Progress | undefined;
      } catch {
        previous = undefined;
      }
      const progress: Progress = { ...previous };
      const node = open(call, progress);
      const before = await node.check();
      if (before.active && (!call.force || progress.activateSent))
        return { outcome: progress.activateSent ? 'activated' : 'already-active', expires: before.expires };
      progress.activateSent = true;
      try {
        Context.current().heartbeat(progress);
      } catch {
        // outside an activity (unit use): nothing to record
      }
      await node.activate();
      const after = await node.check();
      if (!after.active)
        throw ApplicationFailure.retryable(
          `${call.node.name}: activation answered OK but the check says not active`,
          FailureTypes.LicenseNotActiveAfterActivation,
        );
      return { outcome: 'activated', expires: after.expires };
    },

    async licenseDeactivate(call: Call): Promise<{ released: boolean }> {
      const node = open(call);
      if (!(await node.check()).active) return { released: false };
      await node.deactivate();
      return { released: true };
    },
  };
}
