import { conditionHolds, loopItems, undefinedNames } from '../../common/conditions';
import { versionTest } from '../../common/jinja-ansible';
import { registeredValue } from '../../common/task-control';
import { expressionSyntaxError, expressionValue, renderArgs } from '../../common/templates';

// Ansible's expression language as roles use it in `when`, `that` and templates: Jinja2 with
// Ansible's filters and tests, Python's truthiness, and conditions as bare expressions.

const v = (expr: string, vars: Record<string, unknown> = {}) => expressionValue(expr, vars);

describe('conditions', () => {
  it('hold when every one of a list holds (AND), booleans included', () => {
    expect(conditionHolds(['x == 1', 'y'], { x: 1, y: true })).toBe(true);
    expect(conditionHolds(['x == 1', 'y'], { x: 1, y: false })).toBe(false);
    expect(conditionHolds([true, false], {})).toBe(false);
    expect(conditionHolds(undefined, {})).toBe(true);
  });

  it('use Python truthiness: an empty list, mapping or text is false', () => {
    expect(conditionHolds(['items'], { items: [] })).toBe(false);
    expect(conditionHolds(['m'], { m: {} })).toBe(false);
    expect(conditionHolds(['s'], { s: '' })).toBe(false);
    expect(conditionHolds(['items'], { items: [0] })).toBe(true);
  });

  it('take a templated condition too, its text "False" being false', () => {
    expect(conditionHolds(['{{ flag }}'], { flag: 'False' })).toBe(false);
    expect(conditionHolds(['{{ flag }}'], { flag: true })).toBe(true);
  });

  it('test definedness, registered results and membership as roles write them', () => {
    const r = registeredValue({ changed: true, msg: '', rc: 0, stdout: 'a\nb\n' });
    expect(conditionHolds(['missing is not defined', 'r is changed', 'r is succeeded'], { r })).toBe(true);
    expect(conditionHolds(['r is failed'], { r })).toBe(false);
    expect(conditionHolds(["'b' in r.stdout_lines", 'r.rc == 0'], { r })).toBe(true);
    expect(conditionHolds(['x is none'], { x: null })).toBe(true);
    expect(conditionHolds(["ansible_os_family == 'Debian'"], { ansible_os_family: 'Debian' })).toBe(true);
  });

  it('compare versions as the version test does', () => {
    expect(conditionHolds(["v is version('10.5', '>=')"], { v: '10.11.6-MariaDB' })).toBe(true);
    expect(versionTest('2.9', '2.10', '<')).toBe(true);
    expect(versionTest('1.0', '1.0.0', '==')).toBe(true);
    expect(() => versionTest('1', '2', 'about')).toThrow(/unknown operator/);
  });

  it('find a syntax error before the play runs', () => {
    expect(expressionSyntaxError('x ==')).toMatch(/unexpected/);
    expect(expressionSyntaxError("x is version('1', '>')")).toBeUndefined();
  });
});

describe("Ansible's filters", () => {
  it('read booleans as Ansible does and choose with ternary', () => {
    expect(['yes', 'on', 'True', '1', 1, true].map((x) => v('x | bool', { x }))).toEqual(Array(6).fill(true));
    expect(['no', 'off', 'false', '0', '', 0].map((x) => v('x | bool', { x }))).toEqual(Array(6).fill(false));
    expect(v("x | ternary('a', 'b')", { x: false })).toBe('b');
  });

  it('default only what is undefined, or also what is empty when asked', () => {
    expect(v("missing | default('d')")).toBe('d');
    expect(v("x | default('d')", { x: '' })).toBe('');
    expect(v("x | default('d', true)", { x: '' })).toBe('d');
  });

  it('shape lists and mappings', () => {
    const users = [
      { name: 'a', admin: true },
      { name: 'b', admin: false },
    ];
    expect(v("users | selectattr('admin') | map(attribute='name') | list", { users })).toEqual(['a']);
    expect(v("users | rejectattr('admin') | map(attribute='name') | join(',')", { users })).toBe('b');
    expect(v('m | dict2items', { m: { a: 1 } })).toEqual([{ key: 'a', value: 1 }]);
    expect(v('l | items2dict', { l: [{ key: 'a', value: 1 }] })).toEqual({ a: 1 });
    expect(v('a | combine(b)', { a: { x: 1, y: { z: 1 } }, b: { y: { w: 2 } } })).toEqual({
      x: 1,
      y: { w: 2 },
    });
    expect(v('a | combine(b, recursive=true)', { a: { y: { z: 1 } }, b: { y: { w: 2 } } })).toEqual({
      y: { z: 1, w: 2 },
    });
    expect(v('[1, 2, 2, 3] | unique')).toEqual([1, 2, 3]);
    expect(v('[1, 2] | union([2, 3])')).toEqual([1, 2, 3]);
    expect(v('[1, 2, 3] | difference([2])')).toEqual([1, 3]);
    expect(v("'a b  c' | split")).toEqual(['a', 'b', 'c']);
  });

  it('work on text and paths', () => {
    expect(v("'host-01.example' | regex_replace('^host-(\\\\d+).*$', 'n\\\\1')")).toBe('n01');
    expect(v("'MariaDB 10.11.6' | regex_search('[0-9.]+')")).toBe('10.11.6');
    expect(v("'/etc/nginx/nginx.conf' | basename")).toBe('nginx.conf');
    expect(v("'/etc/nginx/nginx.conf' | dirname")).toBe('/etc/nginx');
    expect(v('"it\'s" | quote')).toBe(`'it'"'"'s'`);
    expect(v("'secret' | b64encode | b64decode")).toBe('secret');
    expect(v('x | to_json', { x: { a: [1] } })).toBe('{"a":[1]}');
    expect(v('\'{"a": 1}\' | from_json')).toEqual({ a: 1 });
  });

  it('refuse a missing mandatory value with its message', () => {
    expect(() => renderArgs('{{ x | mandatory }}', {})).toThrow(/Mandatory variable not defined/);
  });
});

describe('loops', () => {
  it('take a list, flatten one level for with_items, and pair a mapping for with_dict', () => {
    expect(loopItems({ items: [1, [2, 3]], kind: 'loop' }, {})).toEqual([1, [2, 3]]);
    expect(loopItems({ items: [1, [2, 3]], kind: 'with_items' }, {})).toEqual([1, 2, 3]);
    expect(loopItems({ items: '{{ users }}', kind: 'loop' }, { users: ['a'] })).toEqual(['a']);
    expect(loopItems({ items: { a: 1 }, kind: 'with_dict' }, {})).toEqual([{ key: 'a', value: 1 }]);
  });

  it('refuse something that is not a list, saying what it got', () => {
    expect(() => loopItems({ items: '{{ s }}', kind: 'loop' }, { s: 'a,b' })).toThrow(
      /loop expects a list, got the text "a,b"/,
    );
  });
});

describe('undefined variables in conditions', () => {
  it('refuse a condition that reads one, as ansible-core does', () => {
    expect(() => conditionHolds(['missing == 1'], {})).toThrow("'missing' is undefined");
    expect(() => conditionHolds(['x.y == 1 and other'], { x: { y: 1 } })).toThrow("'other' is undefined");
  });

  it('let a condition ask about one, or give a default', () => {
    expect(conditionHolds(['missing is not defined', 'missing.attr is undefined'], {})).toBe(true);
    expect(conditionHolds(["missing | default('a') == 'a'", 'range(2) | length == 2'], {})).toBe(true);
    expect(undefinedNames("item.name in users | map(attribute='name')", { item: {}, users: [] })).toEqual([]);
  });
});

describe('filters and tests by their collection names', () => {
  it('are the builtin ones, and an unknown one is named as the role wrote it', () => {
    expect(renderArgs('{{ x | ansible.builtin.flatten | ansible.builtin.to_json }}', { x: [[1]] })).toBe(
      '[1]',
    );
    expect(conditionHolds(["'10.11' is ansible.builtin.version('10.5', '>=')"], {})).toBe(true);
    expect(conditionHolds(['y is not ansible.builtin.defined'], {})).toBe(true);
    expect(() => renderArgs('{{ x | community.general.json_query("a") }}', { x: 1 })).toThrow(
      /filter not found: community\.general\.json_query/,
    );
  });
});

describe('variables are templates, rendered when read', () => {
  it('render a variable that refers to others, keeping the type of a whole expression', () => {
    expect(renderArgs('{{ file }}', { file: '{{ root }}/motd', root: '/srv' })).toBe('/srv/motd');
    expect(renderArgs('{{ ports }}', { ports: '{{ [base, base + 1] }}', base: 80 })).toEqual([80, 81]);
  });

  it('never render one nobody reads, so a broken one only fails where it is used', () => {
    expect(renderArgs('{{ ok }}', { ok: 'fine', broken: '{{ nope.deeper.still }}' })).toBe('fine');
  });

  it("render each host's hostvars in that host's own context, so a var reading hostvars is no loop", () => {
    const node3 = {
      ansible_host: '10.77.0.13',
      master: "{{ hostvars['node3'].ansible_host }}",
      me: '{{ name }}',
      name: 'node3',
    };
    const vars = { master: "{{ hostvars['node3'].ansible_host }}", name: 'node4', hostvars: { node3 } };
    expect(renderArgs('{{ master }} {{ hostvars.node3.master }} {{ hostvars.node3.me }}', vars)).toBe(
      '10.77.0.13 10.77.0.13 node3',
    );
    expect(renderArgs("{{ hostvars['node3'] | to_json }}", vars)).toContain('"master":"10.77.0.13"');
  });

  it('refuse a variable that uses itself', () => {
    expect(() => renderArgs('{{ a }}', { a: '{{ b }}', b: '{{ a }}' })).toThrow(/recursive loop/);
  });
});

describe('comparisons', () => {
  it('compare lists and mappings by value, and text with numbers as different, as Jinja does', () => {
    expect(v("lines == ['a', 'b']", { lines: ['a', 'b'] })).toBe(true);
    expect(v("m != {'a': 1}", { m: { a: 1 } })).toBe(false);
    expect(v("'1' == 1")).toBe(false);
    expect(v('1 == 1.0')).toBe(true);
    expect(v('x < 3', { x: 2 })).toBe(true);
  });
});

describe('+', () => {
  it('concatenates lists as Python does, where JavaScript would make one string of them', () => {
    expect(v("['a'] + ['b']")).toEqual(['a', 'b']);
    expect(
      v("(groups['web'] + groups['db']) | join(',')", { groups: { web: ['w1'], db: ['d1', 'd2'] } }),
    ).toBe('w1,d1,d2');
    expect(v("['127.0.0.1'] + ([] if primary else [addr])", { primary: false, addr: '10.77.0.12' })).toEqual([
      '127.0.0.1',
      '10.77.0.12',
    ]);
  });

  it('adds numbers and joins text', () => {
    expect(v('1 + 2')).toBe(3);
    expect(v("'a' + 'b'")).toBe('ab');
  });

  it("refuses text plus a number, as Python's TypeError, instead of guessing", () => {
    expect(() => v("'port ' + 8080")).toThrow(/unsupported operand type\(s\) for \+: str and int/);
    expect(() => v('[1] + 2')).toThrow(/list and int/);
  });
});

describe('subscripts', () => {
  const vars = { xs: [1, 2, 3, 4], s: 'abcdef', groups: { web: ['w1', 'w2', 'w3'] } };
  it('slice lists and text as Python does: start, stop, step, negatives, past the end', () => {
    expect(v('xs[:2]', vars)).toEqual([1, 2]);
    expect(v('xs[1:]', vars)).toEqual([2, 3, 4]);
    expect(v('xs[1:-1]', vars)).toEqual([2, 3]);
    expect(v('xs[::2]', vars)).toEqual([1, 3]);
    expect(v('xs[::-1]', vars)).toEqual([4, 3, 2, 1]);
    expect(v('xs[5:9]', vars)).toEqual([]);
    expect(v('s[-2:]', vars)).toBe('ef');
    expect(v("groups['web'][:2] | join(',')", vars)).toBe('w1,w2');
    expect(renderArgs('{{ s[1:3] }}', vars)).toBe('bc');
  });

  it('count a negative index from the end', () => {
    expect(v('xs[-1]', vars)).toBe(4);
    expect(v('s[-1]', vars)).toBe('f');
    expect(v('xs[0]', vars)).toBe(1);
  });

  it('refuse what Python refuses, naming why', () => {
    expect(() => v('xs[1:2:3:4]', vars)).toThrow(/at most start:stop:step/);
    expect(() => v('xs[]', vars)).toThrow(/empty subscript/);
    expect(() => v('n[1:]', { n: 5 })).toThrow(/'int' object is not subscriptable/);
    expect(() => v("xs['a':]", vars)).toThrow(/slice start must be an integer or None, not str/);
    expect(() => v('xs[::0]', vars)).toThrow(/step cannot be zero/);
  });
});
