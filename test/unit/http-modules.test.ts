import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alreadyThere, digestFor, parseChecksum, parseDest } from '../../activities/modules/get-url';
import {
  ansibleHeaders,
  curlConfig,
  dispositionFilename,
  parsePlace,
  parseResponse,
  placeScript,
  requestScript,
  requestStdin,
  responseMessage,
  urlFilename,
  wgetConfig,
  type HttpRequest,
} from '../../activities/modules/http';
import { encodeBody, followsRedirects } from '../../activities/modules/uri';
import { GetUrlArgs, UriArgs } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';

const request: HttpRequest = {
  url: 'http://10.77.0.12/a "b"',
  method: 'POST',
  headers: { 'X-Token': 'se\\cr"et' },
  body: Buffer.from('{"a":1}'),
  timeout: 10,
  validateCerts: false,
  username: 'ops',
  password: 'p w',
  forceBasicAuth: false,
  followRedirects: true,
  output: 'response',
  printBody: { always: false, wantedStatus: [200] },
};

describe('the request, as the host tool reads it', () => {
  it('writes a curl config with every value quoted, credentials after a challenge unless forced', () => {
    expect(curlConfig(request)).toBe(
      [
        'url = "http://10.77.0.12/a \\"b\\""',
        'request = "POST"',
        'header = "X-Token: se\\\\cr\\"et"',
        'data-binary = "@body"',
        'user = "ops:p w"',
        'anyauth',
        'connect-timeout = 10',
        'speed-time = 10',
        'speed-limit = 1',
        'insecure',
        'location',
        'max-redirs = 10',
        '',
      ].join('\n'),
    );
    expect(curlConfig({ ...request, forceBasicAuth: true })).toMatch(/^basic$/m);
    expect(curlConfig({ ...request, method: 'HEAD', body: undefined })).toMatch(/^head$/m);
  });

  it('writes the same request as a wgetrc', () => {
    const rc = wgetConfig({ ...request, followRedirects: false, forceBasicAuth: true });
    expect(rc).toContain(
      'method = POST\nheader = X-Token: se\\cr"et\nbody_file = body\nhttp_user = ops\nhttp_password = p w\nauth_no_challenge = on\ncheck_certificate = off\nmax_redirect = 0\n',
    );
  });

  it('sends the request on stdin, never on a command line, and reads the answer back', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-http-'));
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    // A curl that records what it was given and answers a redirect, then JSON.
    writeFileSync(
      path.join(bin, 'curl'),
      [
        '#!/bin/sh',
        'while [ $# -gt 0 ]; do case "$1" in -K) cfg=$2; shift;; -D) hdr=$2; shift;; -o) out=$2; shift;; -w) shift;; esac; shift; done',
        `cp "$cfg" ${dir}/config; cp body ${dir}/body`,
        'printf \'HTTP/1.1 301 Moved Permanently\\r\\nLocation: /b\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 9\\r\\nSet-Cookie: a=1\\r\\nSet-Cookie: b=2\\r\\n\\r\\n\' > "$hdr"',
        `printf '{"ok": 1}' > "$out"`,
        "printf '200 1 http://10.77.0.12/b'",
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'curl'), 0o755);
    const r = spawnSync('sh', ['-c', requestScript(request)], {
      input: requestStdin(request),
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(dir, 'config'), 'utf8')).toBe(curlConfig(request));
    expect(readFileSync(path.join(dir, 'body'), 'utf8')).toBe('{"a":1}');
    const res = parseResponse(r.stdout);
    expect(res).toMatchObject({
      tool: 'curl',
      rc: 0,
      status: 200,
      reason: 'OK',
      redirects: 1,
      url: 'http://10.77.0.12/b',
    });
    expect(res.headers).toEqual({
      'content-type': 'application/json',
      'content-length': '9',
      'set-cookie': 'a=1, b=2',
    });
    // JSON comes back even without return_content: uri parses it into `json`.
    expect(res.body?.toString()).toBe('{"ok": 1}');
  });

  it('reads a failed connection and a wget answer', () => {
    const refused = parseResponse(
      'tool=curl rc=7\n000 0 http://127.0.0.1:1/\n--headers--\n--error--\ncurl: (7) Failed to connect\n',
    );
    expect(refused).toMatchObject({ status: -1, error: 'curl: (7) Failed to connect' });
    expect(responseMessage(refused)).toBe('Request failed: curl: (7) Failed to connect');
    const wget = parseResponse(
      'tool=wget rc=8\n0 0 -\n--headers--\nHTTP/1.1 404 Not Found\nServer: nginx\n--error--\n',
    );
    expect(wget).toMatchObject({ tool: 'wget', status: 404, redirects: 0, headers: { server: 'nginx' } });
    expect(responseMessage(wget)).toBe('HTTP Error 404: Not Found');
    expect(responseMessage({ ...wget, status: 200, headers: {} })).toBe('OK (unknown bytes)');
  });
});

describe('names and checksums', () => {
  it('names a file from Content-Disposition, never as a path, else from the URL', () => {
    expect(dispositionFilename({ 'content-disposition': 'attachment; filename="../../etc/passwd"' })).toBe(
      'passwd',
    );
    expect(
      dispositionFilename({ 'content-disposition': "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" }),
    ).toBe('résumé.pdf');
    expect(dispositionFilename({})).toBeUndefined();
    expect(urlFilename('http://127.0.0.1/dl/app-1.0.tar.gz?x=1')).toBe('app-1.0.tar.gz');
    expect(urlFilename('http://127.0.0.1/')).toBe('index.html');
  });

  it('reads a checksum, and finds a file in a GNU or BSD checksum list', () => {
    expect(parseChecksum('sha256:AB CD\u200b01')).toEqual({ algorithm: 'sha256', digest: 'abcd01' });
    expect(parseChecksum('sha256:http://127.0.0.1/SHA256SUMS')).toEqual({
      algorithm: 'sha256',
      url: 'http://127.0.0.1/SHA256SUMS',
    });
    expect(() => parseChecksum('sha1:xyz')).toThrow('The checksum format is invalid');
    expect(digestFor('app.tgz', 'aa11  other.tgz\nBB22 *app.tgz\n')).toBe('bb22');
    expect(digestFor('app.tgz', 'SHA256 (app.tgz) = cc33\n')).toBe('cc33');
    expect(digestFor('app.tgz', 'dd44\n')).toBe('dd44');
    expect(digestFor('app.tgz', 'aa11  other.tgz\n')).toBeUndefined();
  });

  it('skips the download only for a file whose checksum matches, unless forced', () => {
    const file = parseDest('file\nabc\n');
    expect(file).toEqual({ kind: 'file', digest: 'abc' });
    expect(alreadyThere({ force: false }, file, 'abc')).toBe(true);
    expect(alreadyThere({ force: true }, file, 'abc')).toBe(false);
    expect(alreadyThere({ force: false }, file, undefined)).toBe(false);
    expect(parseDest('absent\nnoparent\n')).toEqual({ kind: 'absent', noParent: true });
  });
});

describe('putting a download in place', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cf-place-'));
  const place = (tmpText: string, dest: string, check = false) => {
    const tmp = path.join(dir, `.tmp-${Math.random()}`);
    writeFileSync(tmp, tmpText);
    const r = spawnSync('sh', ['-c', placeScript(tmp, dest, check)], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(existsSync(tmp)).toBe(false);
    return parsePlace(r.stdout);
  };

  it('moves a new file in as 644, replaces a different one keeping its mode, and leaves an equal one', () => {
    const dest = path.join(dir, 'f');
    expect(place('one', dest)).toMatchObject({ moved: true, checksumDest: undefined });
    expect(statSync(dest).mode & 0o777).toBe(0o644);
    chmodSync(dest, 0o600);
    expect(place('two', dest).moved).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('two');
    expect(statSync(dest).mode & 0o777).toBe(0o600);
    const same = place('two', dest);
    expect(same.moved).toBe(false);
    expect(same.checksumSrc).toBe(same.checksumDest);
  });

  it('in check mode reports the checksums and changes nothing', () => {
    const dest = path.join(dir, 'g');
    writeFileSync(dest, 'old');
    const r = place('new', dest, true);
    expect(r.moved).toBe(false);
    expect(r.checksumSrc).not.toBe(r.checksumDest);
    expect(readFileSync(dest, 'utf8')).toBe('old');
  });
});

describe('uri', () => {
  it('encodes json and form bodies with their content type, and refuses a mapping as raw', () => {
    expect(encodeBody({ body: { a: [1, 2] }, body_format: 'json' })).toEqual({
      body: Buffer.from('{"a":[1,2]}'),
      contentType: 'application/json',
    });
    expect(
      encodeBody({
        body: { x: 1, y: 'a b', z: ['p', 'q'], n: null },
        body_format: 'form-urlencoded',
      }).body?.toString(),
    ).toBe('x=1&y=a+b&z=p&z=q');
    expect(encodeBody({ body: [['k', 'v']], body_format: 'form-urlencoded' }).body?.toString()).toBe('k=v');
    expect(encodeBody({ body: 'raw text', body_format: 'raw' })).toEqual({ body: Buffer.from('raw text') });
    expect(() => encodeBody({ body: { a: 1 }, body_format: 'raw' })).toThrow(/raw takes a string/);
  });

  it('follows redirects for GET and HEAD when safe, always with all, never with none', () => {
    expect(followsRedirects({ follow_redirects: 'safe', method: 'GET' })).toBe(true);
    expect(followsRedirects({ follow_redirects: 'safe', method: 'POST' })).toBe(false);
    expect(followsRedirects({ follow_redirects: 'all', method: 'POST' })).toBe(true);
    expect(followsRedirects({ follow_redirects: 'none', method: 'GET' })).toBe(false);
  });

  it('returns headers as ansible-core names them', () => {
    expect(ansibleHeaders({ 'content-type': 'text/plain', 'x-request-id': '1' })).toEqual({
      content_type: 'text/plain',
      x_request_id: '1',
    });
  });

  it('takes a status code list as numbers, a method in any case, and refuses a header split over lines', () => {
    expect(
      UriArgs.parse({ url: 'http://127.0.0.1/', status_code: '200, 201', method: 'post' }),
    ).toMatchObject({
      status_code: [200, 201],
      method: 'POST',
    });
    expect(UriArgs.parse({ url: 'http://127.0.0.1/', status_code: [204] }).status_code).toEqual([204]);
    expect(
      taskArguments('uri', { url: 'http://127.0.0.1/', headers: { A: 'x\r\nB: y' } }, {}).problems?.[0],
    ).toMatch(/a header value is one line/);
    expect(taskArguments('uri', { url: 'file:///etc/passwd' }, {}).problems?.[0]).toMatch(
      /http:\/\/ or https:\/\//,
    );
    expect(GetUrlArgs.parse({ url: 'http://127.0.0.1/x', dest: '/tmp/x', password: 's' }).url_password).toBe(
      's',
    );
  });
});
