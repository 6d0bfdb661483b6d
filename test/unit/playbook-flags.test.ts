import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PlayInput } from '../../common/play';
import { parseExtraVars, skipTagged, tagList } from '../../client/playbook-flags';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-flags-'));

describe("ansible-playbook's -e", () => {
  it('reads key=value words as strings, with quoted values and Jinja expressions kept whole', () => {
    expect(
      parseExtraVars([`version=2.4 port=8080 motd="hello world" who='a b' expr={{ x | default('y z') }}`]),
    ).toEqual({
      version: '2.4',
      port: '8080',
      motd: 'hello world',
      who: 'a b',
      expr: "{{ x | default('y z') }}",
    });
  });

  it('reads a JSON or YAML mapping with its types', () => {
    expect(parseExtraVars(['{"port": 8080, "tls": true, "nodes": ["a", "b"]}'])).toEqual({
      port: 8080,
      tls: true,
      nodes: ['a', 'b'],
    });
    expect(parseExtraVars(['{port: 8080, tls: yes}'])).toEqual({ port: 8080, tls: true });
  });

  it('reads @file as YAML or JSON', () => {
    const yml = path.join(dir, 'vars.yml');
    writeFileSync(yml, 'release: v7\nworkers: 4\n');
    const json = path.join(dir, 'vars.json');
    writeFileSync(json, '{"release": "v8"}');
    expect(parseExtraVars([`@${yml}`])).toEqual({ release: 'v7', workers: 4 });
    expect(parseExtraVars([`@${json}`])).toEqual({ release: 'v8' });
  });

  it('lets a later -e replace the same name of an earlier one', () => {
    expect(parseExtraVars(['a=1 b=1', '{"b": 2}', 'c=3'])).toEqual({ a: '1', b: 2, c: '3' });
  });

  it('refuses what is no mapping of variables, naming the argument', () => {
    expect(() => parseExtraVars(['justaword'])).toThrow(/-e "justaword": "justaword" is not key=value/);
    expect(() => parseExtraVars(['my-var=1'])).toThrow(/"my-var" is not a variable name/);
    expect(() => parseExtraVars(['["a", "b"]'])).toThrow(/extra vars must be a mapping/);
    expect(() => parseExtraVars(['{"a": 1'])).toThrow(/^-e '\{"a": 1': /);
    expect(() => parseExtraVars(['motd="unclosed'])).toThrow(/unbalanced "/);
    expect(() => parseExtraVars([`@${path.join(dir, 'missing.yml')}`])).toThrow(/missing\.yml: ENOENT/);
    const list = path.join(dir, 'list.yml');
    writeFileSync(list, '- a\n- b\n');
    expect(() => parseExtraVars([`@${list}`])).toThrow(/list\.yml: extra vars must be a mapping/);
  });
});

describe("ansible-playbook's -t and --skip-tags", () => {
  it('takes tags repeated and comma-separated, once each', () => {
    expect(tagList(['a,b', ' c ', 'a'])).toEqual(['a', 'b', 'c']);
  });

  it('leaves out every task carrying a skipped tag, always-tagged ones only when always is skipped', () => {
    const task = (name: string, tags: string[]) => ({
      name,
      module: 'command' as const,
      args: {},
      notify: [],
      tags,
      ignoreErrors: false,
    });
    const input = {
      cluster: 'c',
      source: 'site.yml',
      check: false,
      diff: false,
      tags: [],
      plays: [
        {
          name: 'p',
          hosts: [],
          forks: 5,
          tasks: [task('plain', []), task('slow', ['slow', 'db']), task('always', ['always'])],
          handlers: [],
        },
      ],
    } as unknown as PlayInput;
    const names = (i: PlayInput) => i.plays[0].tasks.map((t) => t.name);
    expect(names(skipTagged(input, ['db']))).toEqual(['plain', 'always']);
    expect(names(skipTagged(input, ['always']))).toEqual(['plain', 'slow']);
    expect(names(skipTagged(input, []))).toEqual(['plain', 'slow', 'always']);
  });

  it('keeps each handler flush point after the last task still there', () => {
    const task = (name: string, tags: string[] = []) => ({
      name,
      module: 'command' as const,
      args: {},
      notify: [],
      tags,
      ignoreErrors: false,
    });
    const play = {
      name: 'p',
      hosts: [],
      forks: 5,
      handlers: [],
      tasks: [task('a'), task('b', ['x']), task('c'), task('d')],
      flushAfter: [1, 2],
    };
    const out = skipTagged(
      { cluster: 'c', source: 's', check: false, diff: false, tags: [], plays: [play] },
      ['x'],
    );
    expect(out.plays[0].tasks.map((t) => t.name)).toEqual(['a', 'c', 'd']);
    expect(out.plays[0].flushAfter).toEqual([0, 1]);
  });
});
