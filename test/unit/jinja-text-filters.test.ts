import { mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import '../../activities/worker-filters';
import { renderTemplate } from '../../common/templates';

// The filters role templates use to write files, with the outputs ansible-core 2.19 gives.

const render = (t: string, vars: Record<string, unknown> = {}) => renderTemplate(t, vars);

describe('text filters', () => {
  it('writes comment blocks as ansible-core does, in every style and with its options', () => {
    expect(render('{{ ansible_managed | comment }}', { ansible_managed: 'Ansible managed' })).toBe(
      '#\n# Ansible managed\n#',
    );
    expect(render("{{ 'a\\nb' | comment('c') }}")).toBe('//\n// a\n// b\n//');
    expect(render("{{ 'a' | comment(decoration='; ') }}")).toBe(';\n; a\n;');
    expect(render("{{ 'a' | comment('xml') }}")).toBe('<!--\n -\n - a\n -\n-->');
    expect(render("{{ 'a' | comment('cblock') }}")).toBe('/*\n *\n * a\n *\n */');
    expect(render("{{ 'a\\nb' | comment(postfix_count=2) }}")).toBe('#\n# a\n# b\n#\n#');
    expect(render("{{ 'a' | comment(prefix='', postfix='') }}")).toBe('# a\n');
  });

  it('hashes, escapes, splits and zips as the Python filters do', () => {
    expect(render("{{ 'x' | hash('md5') }}")).toBe('9dd4e461268c8034f5c8564e155c67a6');
    expect(render("{{ 'x' | sha1 }}")).toBe('11f6ad8ec52a2984abaafd7c3b516503785c2072');
    expect(render("{{ '10M' | human_to_bytes }} {{ '1.5 GB' | human_to_bytes }}")).toBe(
      '10485760 1610612736',
    );
    expect(render("{{ 'a.b*c' | regex_escape }}")).toBe('a\\.b\\*c');
    expect(render("{{ 'a.tar.gz' | splitext }}")).toBe("['a.tar', '.gz']");
    expect(render("{{ [1, 2, 3] | zip(['a', 'b']) | list }}")).toBe("[[1, 'a'], [2, 'b']]");
    expect(render("{{ [1, 2] | product(['a']) | list }}")).toBe("[[1, 'a'], [2, 'a']]");
    expect(render("{{ 'b' | extract(m, 'c') }} {{ 1.5 | type_debug }}", { m: { b: { c: 7 } } })).toBe(
      '7 float',
    );
  });

  it('expands ~ and resolves links on the worker, as on the controller', () => {
    expect(render("{{ '~/x' | expanduser }}")).toBe(`${homedir()}/x`);
    expect(render("{{ '~root/x' | expanduser }} {{ '~nobody-here/x' | expanduser }}")).toBe(
      '/root/x ~nobody-here/x',
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-realpath-'));
    symlinkSync(dir, `${dir}-link`);
    expect(render('{{ p | realpath }}', { p: `${dir}-link/missing/../f` })).toBe(`${realpathSync(dir)}/f`);
  });

  it('reads and writes YAML with the same data', () => {
    expect(render("{{ ('a: [1, 2]' | from_yaml).a[1] }}")).toBe('2');
    const v = { a: [1, 2], b: { c: 'x y', d: true } };
    expect(render('{{ (v | to_nice_yaml | from_yaml) == v }}', { v })).toBe('True');
    expect(render('{{ v | to_nice_yaml }}', { v })).toMatch(/^a:\n/);
  });
});
