import { shellQuote } from '../ssh/quote';

// One HTTP request made BY THE HOST (get_url, uri), with whichever of curl or wget it has, so the
// host's own names, routes and addresses apply. What the request is (URL, headers, credentials,
// body) travels on stdin as the tool's config file, never on a command line another user could
// read; the response's status and headers come back as text that `parseResponse` reads.

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Seconds: to connect, and without a byte received. */
  timeout: number;
  validateCerts: boolean;
  username?: string;
  password?: string;
  /** Send the credentials at once, not only after a 401 challenge. */
  forceBasicAuth: boolean;
  followRedirects: boolean;
  /** A path on the host (a shell word, may be a variable such as "$tmp") the body is written to. */
  output: string;
  /** A file on the host whose mtime goes out as If-Modified-Since, when it exists. */
  ifModifiedSince?: string;
  /** Print the body back (base64) when this holds: `always`, or only for JSON/text or an unwanted status. */
  printBody?: { always: boolean; wantedStatus: number[] };
}

export interface HttpResponse {
  tool: 'curl' | 'wget' | 'none';
  /** The tool's exit code (curl 0 even for a 404; wget 8 for one). */
  rc: number;
  /** -1 when no response came (refused, timed out, name unknown). */
  status: number;
  reason: string;
  /** The final response's headers, names lower-cased. */
  headers: Record<string, string>;
  redirects: number;
  /** The URL of the final response (curl; wget reports the first). */
  url: string;
  /** What the tool said on a failure. */
  error: string;
  body?: Buffer;
}

/** curl's config syntax: a double-quoted value with \ and " escaped. */
const curlValue = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Pure: the request as a curl config file (`curl -K`). */
export function curlConfig(r: HttpRequest): string {
  const lines = [`url = ${curlValue(r.url)}`];
  if (r.method === 'HEAD') lines.push('head');
  else if (r.method !== 'GET' || r.body) lines.push(`request = ${curlValue(r.method)}`);
  for (const [k, v] of Object.entries(r.headers)) lines.push(`header = ${curlValue(`${k}: ${v}`)}`);
  if (r.body) lines.push('data-binary = "@body"');
  if (r.username !== undefined) {
    lines.push(`user = ${curlValue(`${r.username}:${r.password ?? ''}`)}`);
    // Without force_basic_auth, credentials follow a 401 challenge (basic or digest), as in Ansible.
    lines.push(r.forceBasicAuth ? 'basic' : 'anyauth');
  }
  lines.push(`connect-timeout = ${r.timeout}`, `speed-time = ${Math.ceil(r.timeout)}`, 'speed-limit = 1');
  if (!r.validateCerts) lines.push('insecure');
  if (r.followRedirects) lines.push('location', 'max-redirs = 10');
  return `${lines.join('\n')}\n`;
}

/** Pure: the request as a wgetrc (`wget --config`); its values run to the end of the line. */
export function wgetConfig(r: HttpRequest): string {
  const lines = [
    'server_response = on',
    'content_on_error = on',
    `timeout = ${r.timeout}`,
    `tries = 1`,
    `method = ${r.method}`,
  ];
  for (const [k, v] of Object.entries(r.headers)) lines.push(`header = ${k}: ${v}`);
  if (r.body) lines.push('body_file = body');
  if (r.username !== undefined) {
    lines.push(`http_user = ${r.username}`, `http_password = ${r.password ?? ''}`);
    if (r.forceBasicAuth) lines.push('auth_no_challenge = on');
  }
  if (!r.validateCerts) lines.push('check_certificate = off');
  lines.push(`max_redirect = ${r.followRedirects ? 10 : 0}`);
  return `${lines.join('\n')}\n`;
}

/** Pure: what goes on the script's stdin: both tools' configs, the URL (wget reads it from a file), then the body. */
export function requestStdin(r: HttpRequest): Buffer {
  const parts = [curlConfig(r), wgetConfig(r), `${r.url}\n`].map((p) => Buffer.from(p));
  const sizes = parts.map((p) => p.length).join(' ');
  return Buffer.concat([Buffer.from(`${sizes}\n`), ...parts, r.body ?? Buffer.alloc(0)]);
}

/** Pure: the script that makes the request on the host and reports it on stdout. */
export function requestScript(r: HttpRequest): string {
  const out = r.output;
  const ims = r.ifModifiedSince ? shellQuote(r.ifModifiedSince) : '';
  const print = r.printBody;
  const wanted = print ? print.wantedStatus.join(' ') : '';
  return [
    'set -u',
    'w=$(mktemp -d) || exit 90',
    `trap 'rm -rf "$w"' EXIT`,
    'IFS=" " read -r nc nw nu',
    'head -c "$nc" > "$w/curl"; head -c "$nw" > "$w/wget"; head -c "$nu" > "$w/url"; cat > "$w/body"',
    ims
      ? `if [ -f ${ims} ]; then d=$(date -u -r ${ims} '+%a, %d %b %Y %H:%M:%S GMT'); printf 'header = "If-Modified-Since: %s"\\n' "$d" >> "$w/curl"; printf 'header = If-Modified-Since: %s\\n' "$d" >> "$w/wget"; fi`
      : '',
    'cd "$w"',
    'if command -v curl >/dev/null 2>&1; then',
    `  curl -K curl -s -S -D headers -o ${r.method === 'HEAD' ? '/dev/null' : out} -w '%{http_code} %{num_redirects} %{url_effective}' > meta 2> err; rc=$?`,
    '  echo "tool=curl rc=$rc"; cat meta; echo',
    'elif command -v wget >/dev/null 2>&1; then',
    `  wget --config=wget -O ${out} -i url 2> log; rc=$?`,
    "  sed -n 's/^  //p' log > headers; grep -v '^  ' log | grep -v '^--' | tail -n 3 > err",
    '  echo "tool=wget rc=$rc"; echo "0 0 -"',
    'else echo "tool=none rc=127"; echo "0 0 -"; exit 0; fi',
    "echo '--headers--'; cat headers 2>/dev/null; echo '--error--'; cat err",
    print
      ? [
          'status=$(grep -E "^HTTP/" headers 2>/dev/null | tail -n 1 | cut -d" " -f2)',
          `show=${print.always ? 1 : 0}`,
          `case " ${wanted} " in *" $status "*) ;; *) show=1;; esac`,
          `grep -iqE '^content-type: *[^/;]*/[^;]*(json|javascript|text)' headers 2>/dev/null && show=1`,
          `if [ "$show" = 1 ] && [ -f ${out} ]; then echo '--body--'; base64 -w0 < ${out}; fi`,
        ].join('\n')
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Pure: the text between `--name--` and the next marker line (or the end). */
function section(stdout: string, name: string): string | undefined {
  const marker = new RegExp(`^--${name}--$`, 'm').exec(stdout);
  if (!marker) return undefined;
  const rest = stdout.slice(marker.index + marker[0].length + 1);
  const next = rest.search(/^--(headers|error|body)--$/m);
  return next < 0 ? rest : rest.slice(0, next);
}

/** Pure: the script's report as the response. */
export function parseResponse(stdout: string): HttpResponse {
  // A caller's script may print lines of its own before the report.
  const report = stdout.slice(Math.max(0, stdout.search(/^tool=/m)));
  const [first = '', meta = ''] = report.split('\n');
  const tool = (/tool=(\w+)/.exec(first)?.[1] ?? 'none') as HttpResponse['tool'];
  const rc = Number(/rc=(\d+)/.exec(first)?.[1] ?? 1);
  const bodyText = section(report, 'body');
  // With redirects (and 100 Continue) every response's headers are there: the last block is the answer.
  const blocks = (section(report, 'headers') ?? '').replace(/\r/g, '').split(/\n(?=HTTP\/)/);
  const last = blocks[blocks.length - 1] ?? '';
  const [statusLine = '', ...headerLines] = last.split('\n');
  const statusMatch = /^HTTP\/[\d.]+\s+(\d{3})\s*(.*)$/.exec(statusLine.trim());
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const [code, redirects, url] = meta.trim().split(' ');
  const status = statusMatch ? Number(statusMatch[1]) : Number(code) || -1;
  return {
    tool,
    rc,
    status: status > 0 ? status : -1,
    reason: statusMatch?.[2]?.trim() ?? '',
    headers,
    redirects:
      tool === 'curl'
        ? Number(redirects) || 0
        : Math.max(0, blocks.filter((b) => /^HTTP\//.test(b)).length - 1),
    url: url && url !== '-' ? url : '',
    error: (section(report, 'error') ?? '').trim(),
    ...(bodyText !== undefined ? { body: Buffer.from(bodyText.trim(), 'base64') } : {}),
  };
}

/** Pure: urllib's message for a response, as ansible-core reports it in `msg`. */
export function responseMessage(r: HttpResponse): string {
  if (r.status < 0) return `Request failed: ${r.error || `${r.tool} exited ${r.rc}`}`;
  if (r.status < 300) return `OK (${r.headers['content-length'] ?? 'unknown'} bytes)`;
  return `HTTP Error ${r.status}: ${r.reason || STATUS_TEXT[r.status] || ''}`.trim();
}

const STATUS_TEXT: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Pure: the response headers as ansible-core returns them: lower-case, `-` as `_`. */
export function ansibleHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/-/g, '_'), v]));
}

/** Pure: the file name a response names (Content-Disposition), never a path. */
export function dispositionFilename(headers: Record<string, string>): string | undefined {
  const cd = headers['content-disposition'];
  const m = cd && /filename\*?=(?:UTF-8'')?(?:"([^"]*)"|([^;\s]*))/i.exec(cd);
  const name = m ? decodeURIComponent(m[1] ?? m[2] ?? '') : '';
  const base = name.split(/[\\/]/).pop() ?? '';
  return base && base !== '.' && base !== '..' ? base : undefined;
}

/** Pure: the last part of the URL's path, as ansible-core names a download into a directory. */
export function urlFilename(url: string, fallback = 'index.html'): string {
  try {
    const base = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    return base && base !== '.' && base !== '..' ? base : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Pure: the script that puts a downloaded temp file in place of `dest` when their content
 * differs (keeping an existing file's owner and mode, 644 for a new one), else removes it.
 * Prints the sha1 before and after, as get_url's checksum_dest and checksum_src.
 */
export function placeScript(tmp: string, dest: string, check: boolean): string {
  const t = shellQuote(tmp);
  const d = shellQuote(dest);
  return [
    'set -e',
    `new=$(sha1sum < ${t} | cut -d' ' -f1)`,
    `old=; if [ -f ${d} ]; then old=$(sha1sum < ${d} | cut -d' ' -f1); fi`,
    'echo "src=$new"; echo "dest=$old"',
    `if [ "$new" = "$old" ] || [ ${check ? 1 : 0} = 1 ]; then rm -f -- ${t}; exit 0; fi`,
    `if [ -e ${d} ]; then chown --reference=${d} ${t}; chmod --reference=${d} ${t}; else chmod 644 ${t}; fi`,
    `mv -f -- ${t} ${d}`,
    'echo moved',
  ].join('\n');
}

/** Pure: the place script's report. */
export function parsePlace(stdout: string): { checksumSrc: string; checksumDest?: string; moved: boolean } {
  const f = Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
  return { checksumSrc: f.src ?? '', checksumDest: f.dest || undefined, moved: /^moved$/m.test(stdout) };
}
