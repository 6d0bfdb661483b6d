import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../client/inventory';
import { loadPlaybook } from '../../client/play';
import { scriptLine } from '../../activities/modules/script';

// script and raw as roles write them: free-form lines, the script found as copy's src.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-script-'));
writeFileSync(path.join(dir, 'hosts.ini'), '[web]\nw1 ansible_host=10.1.0.1\n');
const inv = loadInventory(path.join(dir, 'hosts.ini'));
const options = { check: false, diff: false, tags: [], forks: 5, cluster: 'x' };

describe('script and raw', () => {
  it('reads a free-form script line as the script beside the playbook, its arguments and its guards', () => {
    writeFileSync(path.join(dir, 'setup.sh'), '#!/bin/sh\n');
    writeFileSync(
      path.join(dir, 'site.yml'),
      JSON.stringify([
        {
          hosts: 'web',
          gather_facts: false,
          tasks: [
            { script: "setup.sh --name 'a b' creates=/etc/done" },
            { raw: 'apt-get install -y python3' },
          ],
        },
      ]),
    );
    const [script, raw] = loadPlaybook(path.join(dir, 'site.yml'), inv, options).plays[0].tasks;
    expect(script.args).toEqual({
      src: path.join(dir, 'setup.sh'),
      args: "--name 'a b'",
      creates: '/etc/done',
    });
    expect(raw).toMatchObject({ module: 'raw', args: { cmd: 'apt-get install -y python3' } });
  });

  it('writes the script into a private file removed however it ends, and runs it with no stdin', () => {
    expect(scriptLine({ args: '-x', executable: 'bash', chdir: "/srv/it's" })).toBe(
      `t=$(mktemp) && trap 'rm -f "$t"' EXIT && base64 -d > "$t" && chmod 700 "$t" && cd '/srv/it'\\''s' && bash "$t" -x < /dev/null`,
    );
    expect(scriptLine({ args: '' })).toMatch(/&& "\$t" < \/dev\/null$/);
  });
});
