import type { Duplex } from 'node:stream';
import { TemporalFailure } from '@temporalio/common';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { scrubSecrets } from '../../../common/vaulted';
import { Dialect, parseVersion } from '../../db/dialect';
import { Sql } from '../../db/sql';
import { shellQuote } from '../../ssh/quote';
import { failed, type ModuleContext } from '../context';
import type { ModuleResult } from '../../../common/modules';

// How the MySQL modules reach the server: as community.mysql does from the host itself, so a
// relay on the host (python3, which every Ansible-managed host has) connects to the socket or to
// login_host:login_port as the become user, and the session rides that relay's stdin and stdout
// over the host's SSH connection. Root over Debian's socket (unix_socket auth, no password) works
// because the relay, not sshd, is the socket's peer.

export interface MysqlLogin {
  login_user?: string;
  login_password?: string;
  login_host: string;
  login_port: number;
  login_unix_socket?: string;
  config_file: string;
  connect_timeout: number;
  check_implicit_admin?: boolean;
}

export type Endpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface LoginPlan {
  user: string;
  password: string;
  endpoint: Endpoint;
}

/** Pure: the [client] options of a my.cnf, as PyMySQL reads them (quotes around a value dropped). */
export function parseClientOptions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inClient = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || /^[#;!]/.test(line)) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      inClient = section[1].trim() === 'client';
      continue;
    }
    const eq = line.indexOf('=');
    if (!inClient || eq < 0) continue;
    const value = line.slice(eq + 1).trim();
    out[line.slice(0, eq).trim().replace(/-/g, '_')] = /^(['"]).*\1$/.test(value)
      ? value.slice(1, -1)
      : value;
  }
  return out;
}

/**
 * Pure: whom to log in as and where, as PyMySQL decides with community.mysql's options: a given
 * option first, then the option file's, then the OS user the module runs as; the socket when one
 * is named (here or in the file), else TCP to login_host:login_port (which the file does not change).
 */
export function loginPlan(login: MysqlLogin, cnf: Record<string, string>, osUser: string): LoginPlan {
  const socket = login.login_unix_socket ?? cnf.socket;
  return {
    user: login.login_user ?? cnf.user ?? osUser,
    password: login.login_password || cnf.password || '',
    endpoint: socket
      ? { kind: 'unix', path: socket }
      : { kind: 'tcp', host: login.login_host, port: login.login_port },
  };
}

const RELAY = `
import os, socket, sys, threading
kind, where, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
# As community.mysql on this host would connect: with PyMySQL, localhost is TCP; with MySQLdb
# alone (what Debian's python3-mysqldb gives), localhost is the client library's socket.
if kind == 'tcp' and where.startswith('localhost:'):
    from importlib.util import find_spec
    if not find_spec('pymysql') and find_spec('MySQLdb'):
        kind, where = 'unix', '/run/mysqld/mysqld.sock'
try:
    if kind == 'unix':
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(where)
    else:
        host, _, port = where.rpartition(':')
        s = socket.create_connection((host, int(port)), timeout)
    s.settimeout(None)
except OSError as e:
    sys.exit('cannot connect to %s: %s' % (where, e.strerror or e))
def upstream():
    while True:
        b = os.read(0, 65536)
        if not b:
            break
        s.sendall(b)
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
threading.Thread(target=upstream, daemon=True).start()
while True:
    try:
        b = s.recv(65536)
    except OSError:
        break
    if not b:
        break
    while b:
        b = b[os.write(1, b):]
`;

/** Pure: the relay's command line for an endpoint. */
export function relayCommand(endpoint: Endpoint, timeoutSeconds: number): string {
  const where = endpoint.kind === 'unix' ? endpoint.path : `${endpoint.host}:${endpoint.port}`;
  return `exec python3 -c ${shellQuote(RELAY)} ${endpoint.kind} ${shellQuote(where)} ${timeoutSeconds}`;
}

/** Pure: the shell that prints an option file if it is there (`~/` is the become user's home). */
export function optionFileScript(path: string): string {
  const p = path.startsWith('~/') ? `"$HOME"/${shellQuote(path.slice(2))}` : shellQuote(path);
  return `if [ -r ${p} ]; then cat -- ${p}; fi`;
}

async function connect(stream: Duplex, plan: LoginPlan, login: MysqlLogin, database?: string) {
  return createConnection({
    stream,
    user: plan.user,
    password: plan.password,
    database,
    connectTimeout: login.connect_timeout * 1000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // Affected rows are rows changed, not rows matched (PyMySQL's default): an UPDATE that finds
    // everything as wanted reports 0, which is what mysql_query's changed rule reads.
    flags: ['-FOUND_ROWS'],
  });
}

/**
 * Runs `fn` with a session on the host's server. A failure to log in or an SQL error becomes the
 * task's failure; `secrets` (passwords, hashes) are scrubbed from every message it could echo.
 */
export async function withMysql(
  ctx: ModuleContext,
  login: MysqlLogin,
  secrets: (string | undefined)[],
  fn: (sql: Sql) => Promise<ModuleResult>,
  database?: string,
): Promise<ModuleResult> {
  const hidden = [login.login_password, ...secrets].filter((s): s is string => Boolean(s));
  const scrub = (text: string) => scrubSecrets(text, hidden);
  let cnf: Record<string, string> = {};
  if (login.config_file) {
    const read = await ctx.remote.run(optionFileScript(login.config_file));
    if (read.exitCode === 0) cnf = parseClientOptions(read.stdout);
    if (cnf.password) hidden.push(cnf.password);
  }
  const target = ctx.remote.target;
  const plan = loginPlan(login, cnf, target.become?.user ?? target.user);
  const attempts: LoginPlan[] = login.check_implicit_admin
    ? [{ ...plan, user: 'root', password: '' }, plan]
    : [plan];
  let lastError = '';
  for (const attempt of attempts) {
    const result = await ctx.remote.withStream(
      relayCommand(attempt.endpoint, login.connect_timeout),
      async (stream, stderr): Promise<ModuleResult | undefined> => {
        let conn: Connection;
        try {
          conn = await connect(stream, attempt, login, database);
        } catch (err) {
          // Whatever the driver met (refused, no server, a relay that could not connect) is the
          // login failing; SSH trouble would have thrown before the stream existed.
          const why = stderr();
          lastError = `${(err as Error).message}${why ? ` (${why.split('\n').pop()})` : ''}`;
          return undefined;
        }
        try {
          const [rows] = await conn.query<RowDataPacket[]>('SELECT VERSION() AS v, @@version_comment AS c');
          const dialect = new Dialect(parseVersion(String(rows[0].v), String(rows[0].c)));
          const result = await fn(new Sql(conn, dialect, target.name));
          return result.failed ? { ...result, msg: scrub(result.msg) } : result;
        } catch (err) {
          // Cancellation and the activity's own failures go on; anything else the session met (a
          // statement refused, a name no server takes, the session lost) is the task's failure.
          if (err instanceof TemporalFailure) throw err;
          return failed(scrub((err as Error).message));
        } finally {
          // QUIT politely, but a session that broke must not hold the task up.
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            conn.end().catch(() => undefined),
            new Promise((r) => (timer = setTimeout(r, 1000))),
          ]);
          clearTimeout(timer);
          conn.destroy();
        }
      },
    );
    if (result) return result;
  }
  return failed(
    scrub(
      `unable to connect to database, check login_user and login_password are correct or ` +
        `${login.config_file || '~/.my.cnf'} has the credentials. Exception message: ${lastError}`,
    ),
  );
}
