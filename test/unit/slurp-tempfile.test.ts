import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { slurpScript } from '../../activities/modules/slurp';
import { tempfileScript } from '../../activities/modules/tempfile';
import { SlurpArgs, TempfileArgs } from '../../common/modules';

const sh = (script: string) => spawnSync('sh', ['-c', script], { encoding: 'utf8' });

describe('slurp and tempfile scripts', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'cf-slurp-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("slurp prints a file's bytes as base64, and tells a missing file from a directory", () => {
    writeFileSync(path.join(dir, "it's.pid"), '2179\n');
    expect(sh(slurpScript(path.join(dir, "it's.pid"))).stdout).toBe('MjE3OQo=');
    expect(sh(slurpScript(path.join(dir, 'nope'))).status).toBe(3);
    expect(sh(slurpScript(dir)).status).toBe(5);
    expect(SlurpArgs.parse({ path: '/var/run/sshd.pid' })).toEqual({ src: '/var/run/sshd.pid' });
  });

  it('tempfile makes a private file or directory with the prefix and suffix', () => {
    const file = sh(tempfileScript(TempfileArgs.parse({ path: dir, suffix: '.conf' }))).stdout.trim();
    expect(path.basename(file)).toMatch(/^ansible\.[A-Za-z0-9]{8}\.conf$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const made = sh(tempfileScript(TempfileArgs.parse({ path: dir, state: 'directory', prefix: 'build ' })));
    expect(path.basename(made.stdout.trim())).toMatch(/^build [A-Za-z0-9]{8}$/);
    expect(statSync(made.stdout.trim()).isDirectory()).toBe(true);
  });
});
