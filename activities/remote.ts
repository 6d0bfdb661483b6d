import { FailureTypes } from '../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import { chmodArgument } from '../common/file-mode';
import type { HostTarget } from '../common/hosts';
import { resolveSecret } from './secrets';
import os from 'node:os';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex, type Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { execCommand, wrapCommand, type BecomeAs, type ExecResult } from './ssh/exec';
import { localClient } from './ssh/local';
import type { SshPool } from './ssh/pool';
import { shellQuote } from './ssh/quote';

export interface RemoteFile {
  exists: boolean;
  kind?: 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  owner?: string;
  group?: string;
  content?: Buffer;
  linkTarget?: string;
  /** The umask commands run with on the host (a symbolic mode without a user class respects it). */
  umask?: number;
}

export interface FileAttributes {
  owner?: string;
  group?: string;
  mode?: string;
}

export interface RunOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  /** Overrides the target's become setting for this command. */
  become?: boolean;
}

/**
 * One host as modules see it: run a command, read a file, write a file atomically. Everything goes
 * through the pool's one connection and the one exec primitive.
 */
export class Remote {
  private becomePassword?: string;

  readonly target: HostTarget;

  constructor(
    private readonly pool: SshPool,
    target: HostTarget,
    private readonly hooks: {
      signal?: AbortSignal;
      onTick?: () => void;
      /** The task's `environment`: exported before each of its commands. */
      environment?: Record<string, string>;
    } = {},
  ) {
    // On the worker itself, the user is whoever the worker runs as.
    this.target = target.connection === 'local' ? { ...target, user: os.userInfo().username } : target;
  }

  /** Who a command runs as when it becomes another user; undefined when it runs as the login user. */
  private async becomeAs(useBecome: boolean): Promise<BecomeAs | undefined> {
    if (!useBecome) return undefined;
    const wanted = this.target.become ?? { user: 'root' };
    if (wanted.password && this.becomePassword === undefined) {
      if (wanted.method === 'su')
        throw ApplicationFailure.nonRetryable(
          `${this.target.name}: become_method su with a password needs a terminal: not supported yet (use sudo, or connect as root)`,
          FailureTypes.BadTask,
        );
      this.becomePassword = (await resolveSecret(wanted.password, 'become.password')).toString().trimEnd();
    }
    // Already that user: sudo would only add a dependency on sudo being installed.
    if (wanted.user === this.target.user) return undefined;
    return { user: wanted.user, password: this.becomePassword, method: wanted.method };
  }

  async run(command: string, options: RunOptions = {}): Promise<ExecResult> {
    const become = await this.becomeAs(options.become ?? Boolean(this.target.become));
    const env = this.hooks.environment;
    if (env && Object.keys(env).length)
      command = `${Object.entries(env)
        .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
        .join('\n')}\n${command}`;
    // Heartbeat through the whole wait, not only while the command runs: a connect may take its
    // full timeout, and a channel on a connection whose host vanished waits for the keepalives.
    const ticker = this.hooks.onTick ? setInterval(this.hooks.onTick, 2000) : undefined;
    try {
      // sshd frees a session slot only once the previous channel's process is reaped: with many
      // commands at once on one host (an LB host serving a batch of nodes) an open can be refused
      // for a moment. Nothing ran yet, so trying again is safe.
      for (let attempt = 1; ; attempt++) {
        try {
          const exec = { ...options, become, signal: this.hooks.signal };
          if (this.target.connection === 'local') return await execCommand(localClient(), command, exec);
          return await this.pool.withConnection(this.target, (client) => execCommand(client, command, exec));
        } catch (err) {
          if (attempt >= 6 || !/Channel open failure/.test((err as Error).message)) throw err;
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
    } finally {
      clearInterval(ticker);
    }
  }

  /** The same host, its connections opened with another connect timeout (a reconnect loop's). */
  withConnectTimeout(ms: number): Remote {
    return new Remote(this.pool, { ...this.target, connectTimeoutMs: ms }, this.hooks);
  }

  /** Drops the pooled connection: after a reboot the old one is dead, but keepalives notice slowly. */
  forget(): void {
    this.pool.discard(this.target);
  }

  /**
   * Runs `fn` with a byte stream to a command on the host (its stdin and stdout), as the task's
   * become user, on the host's pooled connection: for a protocol that rides a relay, as a MySQL
   * session through the server's socket does. Closing the stream ends the command; `stderr()` is
   * what the command said so far, for an error message.
   */
  async withStream<T>(command: string, fn: (stream: Duplex, stderr: () => string) => Promise<T>): Promise<T> {
    const become = await this.becomeAs(Boolean(this.target.become));
    const line = wrapCommand(command, become);
    const session = async (stream: Duplex, errors: Readable): Promise<T> => {
      let said = '';
      errors.on('data', (c: Buffer) => (said += c.toString('utf8')));
      const stop = () => stream.destroy();
      this.hooks.signal?.addEventListener('abort', stop, { once: true });
      if (become?.password) stream.write(`${become.password}\n`);
      try {
        return await fn(stream, () => said.replace(/^__CLUSTERFLOW_PGID=\d+\n/, '').trim());
      } finally {
        this.hooks.signal?.removeEventListener('abort', stop);
        stream.destroy();
      }
    };
    const ticker = this.hooks.onTick ? setInterval(this.hooks.onTick, 2000) : undefined;
    try {
      if (this.target.connection === 'local') {
        const child = spawn('sh', ['-c', line], { stdio: 'pipe' });
        return await session(childStream(child), child.stderr);
      }
      return await this.pool.withConnection(this.target, async (client) => {
        const channel = await new Promise<ClientChannel>((resolve, reject) =>
          client.exec(line, (err, ch) => (err ? reject(err) : resolve(ch))),
        );
        return session(channel, channel.stderr);
      });
    } finally {
      clearInterval(ticker);
    }
  }

  /** Runs a command that must succeed; a failure names the host, the step and stderr. */
  async must(command: string, step: string, options: RunOptions = {}): Promise<ExecResult> {
    const result = await this.run(command, options);
    if (result.exitCode !== 0) {
      throw ApplicationFailure.nonRetryable(
        `${this.target.name}: ${step} failed (exit ${result.exitCode ?? result.signal}): ${(result.stderr || result.stdout).trim().slice(0, 1000)}`,
        FailureTypes.CommandFailed,
      );
    }
    return result;
  }

  async stat(path: string, withContent = false): Promise<RemoteFile> {
    const p = shellQuote(path);
    const script = [
      'umask',
      `if [ -L ${p} ]; then printf 'link|%s\\n' "$(readlink -- ${p})"; fi`,
      `if [ -e ${p} ]; then stat -c '%F|%a|%U|%G' -- ${p}; else echo absent; fi`,
      withContent ? `if [ -f ${p} ]; then base64 -w0 -- ${p}; fi` : '',
    ].join('\n');
    const out = (await this.must(script, `reading ${path}`)).stdout.split('\n');
    const umask = parseInt(out.shift()!, 8);
    let linkTarget: string | undefined;
    if (out[0].startsWith('link|')) linkTarget = out.shift()!.slice(5);
    if (out[0] === 'absent')
      return linkTarget !== undefined
        ? { exists: true, kind: 'link', linkTarget, umask }
        : { exists: false, umask };
    const [type, mode, owner, group] = out[0].split('|');
    const kind =
      linkTarget !== undefined
        ? 'link'
        : type.includes('regular')
          ? 'file'
          : type === 'directory'
            ? 'directory'
            : 'other';
    return {
      exists: true,
      kind,
      mode: mode.padStart(3, '0'),
      owner,
      group,
      linkTarget,
      umask,
      content: withContent && kind === 'file' ? Buffer.from(out[1] ?? '', 'base64') : undefined,
    };
  }

  /**
   * Replaces a file atomically: a temp file in the same directory, attributes set on it, then
   * rename. Keeps the old file's attributes unless new ones are given. Returns the backup path.
   */
  async writeFile(
    path: string,
    content: Buffer | string,
    attrs: FileAttributes & { backup?: boolean; validate?: string },
  ): Promise<string | undefined> {
    const p = shellQuote(path);
    const lines = [
      'set -e',
      `t=$(mktemp -- "$(dirname -- ${p})/.clusterflow.XXXXXX")`,
      `trap 'rm -f -- "$t"' EXIT`,
      'base64 -d > "$t"',
      `if [ -e ${p} ]; then chown --reference=${p} "$t"; fi`,
      attrs.owner || attrs.group
        ? `chown ${shellQuote(`${attrs.owner ?? ''}${attrs.group ? `:${attrs.group}` : ''}`)} "$t"`
        : '',
      // After chown: chown clears the setuid and setgid bits of a regular file.
      attrs.mode
        ? `chmod ${shellQuote(chmodArgument(parseInt(attrs.mode, 8)))} "$t"`
        : `if [ -e ${p} ]; then chmod --reference=${p} "$t"; else chmod 644 "$t"; fi`,
      // validate: the operator's own check of the new file (`nginx -t -c %s`), before it goes in.
      attrs.validate
        ? `( ${attrs.validate.replace(/%s/g, '"$t"')} ) >&2 || { echo "validate failed" >&2; exit 3; }`
        : '',
      attrs.backup
        ? `if [ -e ${p} ]; then b=${p}.$(date +%Y%m%d%H%M%S)~; cp -p -- ${p} "$b"; echo "$b"; fi`
        : '',
      // -T: a link to a directory at the path is replaced, never written into.
      `mv -fT -- "$t" ${p}`,
      'trap - EXIT',
    ];
    const result = await this.must(lines.filter(Boolean).join('\n'), `writing ${path}`, {
      stdin: Buffer.from(content).toString('base64'),
    });
    return result.stdout.trim() || undefined;
  }

  /** Sets owner, group and mode where they differ; returns what it changed. */
  async fixAttributes(
    path: string,
    current: RemoteFile,
    wanted: FileAttributes,
    check: boolean,
  ): Promise<string[]> {
    const changes = attributeChanges(current, wanted);
    if (changes.length && !check) {
      const p = shellQuote(path);
      const commands = [
        wanted.owner && wanted.owner !== current.owner ? `chown ${shellQuote(wanted.owner)} -- ${p}` : '',
        wanted.group && wanted.group !== current.group ? `chgrp ${shellQuote(wanted.group)} -- ${p}` : '',
        wanted.mode && wanted.mode !== current.mode
          ? `chmod ${shellQuote(chmodArgument(parseInt(wanted.mode, 8)))} -- ${p}`
          : '',
      ];
      await this.must(commands.filter(Boolean).join(' && '), `setting attributes of ${path}`);
    }
    return changes;
  }
}

/** A local command's stdin and stdout as one stream that closes when the command ends, as an SSH channel does. */
function childStream(child: ChildProcessWithoutNullStreams): Duplex {
  const stream = new Duplex({
    read: () => void child.stdout.resume(),
    write: (chunk: Buffer, _encoding, done) => void child.stdin.write(chunk, done),
    final: (done) => void child.stdin.end(done),
    destroy: (err, done) => (child.kill('SIGTERM'), done(err)),
  });
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', (d: Buffer) => stream.push(d) || child.stdout.pause());
  child.stdout.on('end', () => stream.push(null));
  child.on('close', () => process.nextTick(() => stream.destroy()));
  return stream;
}

/** Pure: which of owner, group and mode differ from what is wanted. */
export function attributeChanges(current: RemoteFile, wanted: FileAttributes): string[] {
  const changes: string[] = [];
  if (wanted.owner && wanted.owner !== current.owner)
    changes.push(`owner ${current.owner ?? '-'} -> ${wanted.owner}`);
  if (wanted.group && wanted.group !== current.group)
    changes.push(`group ${current.group ?? '-'} -> ${wanted.group}`);
  if (wanted.mode && wanted.mode !== current.mode)
    changes.push(`mode ${current.mode ?? '-'} -> ${wanted.mode}`);
  return changes;
}
