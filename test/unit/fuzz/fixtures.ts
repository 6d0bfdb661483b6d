import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/** A scratch folder holding the inventory every generated spec and playbook refers to. */
export function scratch(prefix: string): { dir: string; inventory: string; text: string } {
  const dir = mkdtempSync(path.join(tmpdir(), `cf-fuzz-${prefix}-`));
  const text = [
    '[app]',
    'app[1:3]',
    '[db]',
    'db1 ansible_host=10.77.0.11',
    'db2 ansible_host=10.77.0.12',
    '[fs]',
    'fs1',
    'fs2',
    '[lb]',
    'lb1 ansible_port=2222',
    '[all:vars]',
    'clusterflow_known_hosts=/fuzz/known_hosts',
    '',
  ].join('\n');
  const inventory = path.join(dir, 'hosts.ini');
  writeFileSync(inventory, text);
  return { dir, inventory, text };
}

const demo = path.join(__dirname, '..', '..', '..', 'examples', 'demo');

/** A document of the demo, the spec users copy, as a starting point for mutation. */
export function demoDocument(file: string): unknown {
  return parse(readFileSync(path.join(demo, file), 'utf8'));
}
