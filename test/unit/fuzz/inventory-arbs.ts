import fc from 'fast-check';
import { mutatedYaml, textSteps, mutateText } from './mutate';

export const hostName = fc.oneof(
  fc.constantFrom('node1', 'node2', 'db1', 'db2', 'web-01', 'app1', '10.77.0.5', 'lb.example.com'),
  fc.stringMatching(/^[a-z][a-z0-9.-]{0,8}$/),
);
export const groupName = fc.oneof(
  fc.constantFrom('web', 'db', 'app', 'lb', 'ungrouped', 'all'),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/),
);
const varName = fc.oneof(
  fc.constantFrom(
    'ansible_host',
    'ansible_port',
    'ansible_user',
    'ansible_become',
    'ansible_password',
    'ansible_become_password',
    'ansible_ssh_common_args',
    'ansible_ssh_private_key_file',
    'clusterflow_known_hosts',
    'cluster_name',
  ),
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
);
const varValue = fc.oneof(
  fc.constantFrom('10.77.0.11', 22, 2222, 'root', true, 'env:PW', 'file:/etc/pw', '-o ProxyJump=bastion'),
  fc.integer({ min: 0, max: 70_000 }),
  fc.string({ maxLength: 8 }),
);
const vars = fc.dictionary(varName, varValue, { maxKeys: 3 });

interface GroupTree {
  hosts?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  children?: Record<string, GroupTree | null>;
}

const group = (depth: number): fc.Arbitrary<GroupTree | null> =>
  fc.option(
    fc.record(
      {
        hosts: fc.dictionary(hostName, fc.option(vars, { nil: null }), { maxKeys: 4 }),
        vars,
        children:
          depth > 0 ? fc.dictionary(groupName, group(depth - 1), { maxKeys: 3 }) : fc.constant(undefined),
      },
      { requiredKeys: [] },
    ),
    { nil: null, freq: 8 },
  );

/** Ansible YAML inventories, valid and then broken. */
export const yamlInventoryText = mutatedYaml(fc.record({ all: group(2) }));

const range = fc.constantFrom(
  '[01:03]',
  '[a:c]',
  '[1:9:2]',
  '[0:99999999]',
  '[9:1]',
  '[1:3:0]',
  '[a:9]',
  '[0:z]',
  '[1:2][1:2]',
);
const hostPattern = fc
  .tuple(hostName, fc.option(range, { freq: 3 }), fc.constantFrom('', '.lab'))
  .map(([h, r, tail]) => `${h}${r ?? ''}${tail}`);
const kv = fc
  .tuple(varName, varValue)
  .map(([k, v]) => `${k}=${typeof v === 'string' && v.includes(' ') ? `"${v}"` : v}`);

const iniLine = fc.oneof(
  {
    arbitrary: fc.tuple(hostPattern, fc.array(kv, { maxLength: 3 })).map(([h, kvs]) => [h, ...kvs].join(' ')),
    weight: 5,
  },
  { arbitrary: groupName.map((g) => `[${g}]`), weight: 2 },
  { arbitrary: groupName.map((g) => `[${g}:vars]`), weight: 1 },
  { arbitrary: groupName.map((g) => `[${g}:children]`), weight: 1 },
  { arbitrary: kv.map((l) => l.replace('=', ' = ')), weight: 2 },
  { arbitrary: groupName, weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '',
      '# comment',
      '; comment',
      'a | b',
      'x > y',
      'h $HOME',
      'h `id`',
      'h "unclosed',
    ),
    weight: 1,
  },
);

/** Ansible INI inventories: plausible lines, then damaged. */
export const iniInventoryText = fc
  .tuple(fc.array(iniLine, { maxLength: 12 }), textSteps)
  .map(([lines, steps]) => mutateText(lines.join('\n'), steps));

/** Valid INI inventories only, to select hosts from. */
export const validIniInventoryText = fc
  .array(
    fc.tuple(
      groupName,
      fc.array(fc.tuple(hostName, fc.option(fc.constantFrom('[1:3]', '[a:b]'))), {
        minLength: 1,
        maxLength: 4,
      }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((groups) =>
    groups.map(([g, hosts]) => [`[${g}]`, ...hosts.map(([h, r]) => `${h}${r ?? ''}`)].join('\n')).join('\n'),
  );
