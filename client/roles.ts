import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INHERITED_KEYS } from './playbook-keywords';
import { parseAnsibleYaml as parse } from './yaml';
import { readVarsText } from './vault';

// Roles as ansible-core finds and reads them: `roles/NAME/{tasks,handlers,defaults,vars,meta,
// templates,files}/`, searched beside the playbook, in `roles_path` of an ansible.cfg beside it,
// in ANSIBLE_ROLES_PATH, then Ansible's default places. A role is static: its dependencies and
// task files are read when the playbook loads, so every problem shows before anything runs.

export interface RoleEntry {
  name: string;
  /** Role params and `vars:` on the role line: above the role's own vars. */
  params: Record<string, unknown>;
  when: (string | boolean)[];
  tags: string[];
  /** become, environment… on the role line: handed to each of the role's tasks. */
  keywords: Record<string, unknown>;
}

export interface LoadedRole {
  name: string;
  dir: string;
  /** The role's tasks and handlers as written (checked later like a play's own). */
  tasks: unknown[];
  handlers: unknown[];
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** Where `import_tasks` of the role's tasks are found. */
  tasksDir: string;
}

export class RoleError extends Error {}

const ROLE_ENTRY_KEYS = ['role', 'name', 'vars', 'when', 'tags', ...INHERITED_KEYS];

/** The directories a role name is looked up in, in Ansible's order. */
export function roleSearchPath(playbookDir: string, env = process.env): string[] {
  const dirs = [path.join(playbookDir, 'roles')];
  const cfg = path.join(playbookDir, 'ansible.cfg');
  if (existsSync(cfg)) {
    const m = /^\s*roles_path\s*=\s*(.+)$/m.exec(readFileSync(cfg, 'utf8'));
    if (m)
      dirs.push(
        ...m[1].split(':').map((d) => path.resolve(playbookDir, d.trim().replace(/^~/, os.homedir()))),
      );
  }
  if (env.ANSIBLE_ROLES_PATH)
    dirs.push(...env.ANSIBLE_ROLES_PATH.split(':').map((d) => path.resolve(d.replace(/^~/, os.homedir()))));
  dirs.push(
    path.join(os.homedir(), '.ansible/roles'),
    '/usr/share/ansible/roles',
    '/etc/ansible/roles',
    playbookDir,
  );
  return dirs;
}

/** A `roles:` line: a name, or a mapping with `role` (or `name`), `vars`, params, `when`, `tags`. */
export function roleEntry(raw: unknown, where: string): RoleEntry {
  if (typeof raw === 'string') return { name: raw, params: {}, when: [], tags: [], keywords: {} };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new RoleError(`${where}: a role is a name or a mapping with role:`);
  const r = raw as Record<string, unknown>;
  const name = r.role ?? r.name;
  if (typeof name !== 'string' || !name) throw new RoleError(`${where}: role: the role's name is missing`);
  const vars = r.vars ?? {};
  if (!vars || typeof vars !== 'object' || Array.isArray(vars))
    throw new RoleError(`${where}: vars: a mapping`);
  // Ansible takes any other key of the line as a role parameter.
  const params = Object.fromEntries(Object.entries(r).filter(([k]) => !ROLE_ENTRY_KEYS.includes(k)));
  const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return {
    name,
    params: { ...params, ...(vars as Record<string, unknown>) },
    when: list(r.when) as (string | boolean)[],
    tags: list(r.tags)
      .flatMap((t) => String(t).split(','))
      .map((t) => t.trim())
      .filter(Boolean),
    keywords: Object.fromEntries(Object.entries(r).filter(([k]) => INHERITED_KEYS.includes(k))),
  };
}

/** A role's YAML; `vars`: a defaults or vars file, which may be encrypted whole (client/vault.ts). */
function readYaml(file: string, vars = false): unknown {
  try {
    return (vars ? readVarsText : parse)(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RoleError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `main.yml` (or `main.yaml`, or `main`) of a role folder, or undefined when the role has none. */
function mainOf(dir: string): string | undefined {
  return ['main.yml', 'main.yaml', 'main'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
}

function mapping(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  const doc = readYaml(file, true);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new RoleError(`${file}: a mapping of variables`);
  return doc as Record<string, unknown>;
}

export function listOf(file: string | undefined): unknown[] {
  if (!file) return [];
  const doc = readYaml(file);
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new RoleError(`${file}: a list of tasks`);
  return doc;
}

export function findRole(name: string, playbookDir: string): string {
  const dirs = roleSearchPath(playbookDir);
  const found = dirs
    .map((d) => path.join(d, name))
    .find((d) => existsSync(path.join(d, 'tasks')) || existsSync(path.join(d, 'meta')));
  if (!found) throw new RoleError(`role "${name}" not found in ${dirs.join(', ')}`);
  return found;
}

/** include_role's tasks_from, vars_from, defaults_from, handlers_from: other files than main. */
export interface RoleFiles {
  tasks?: string;
  vars?: string;
  defaults?: string;
  handlers?: string;
}

/** `name`, `name.yml` or `name.yaml` in a role folder (what tasks_from and the others name). */
function fileOf(dir: string, name: string | undefined): string | undefined {
  if (name === undefined) return mainOf(dir);
  const found = [name, `${name}.yml`, `${name}.yaml`]
    .map((f) => path.join(dir, f))
    .find((f) => existsSync(f));
  if (!found) throw new RoleError(`${path.join(dir, name)}: no such file`);
  return found;
}

/** The role's own files, read. */
export function loadRole(
  name: string,
  playbookDir: string,
  from: RoleFiles = {},
): LoadedRole & { dependencies: unknown[] } {
  const dir = findRole(name, playbookDir);
  const meta = mapping(mainOf(path.join(dir, 'meta')));
  const deps = meta.dependencies ?? [];
  if (!Array.isArray(deps)) throw new RoleError(`${dir}/meta/main.yml: dependencies: a list of roles`);
  return {
    name,
    dir,
    tasks: listOf(fileOf(path.join(dir, 'tasks'), from.tasks)),
    handlers: listOf(fileOf(path.join(dir, 'handlers'), from.handlers)),
    defaults: mapping(fileOf(path.join(dir, 'defaults'), from.defaults)),
    vars: mapping(fileOf(path.join(dir, 'vars'), from.vars)),
    tasksDir: path.join(dir, 'tasks'),
    dependencies: deps,
  };
}

/**
 * A play's `roles:` with their dependencies first, each role (with the same params) once, as
 * Ansible runs them: a dependency several roles share runs before the first of them.
 */
export function resolveRoles(
  entries: RoleEntry[],
  playbookDir: string,
  /** include_role's other files, for the named roles (not their dependencies). */
  from: RoleFiles = {},
): { role: LoadedRole; entry: RoleEntry }[] {
  const out: { role: LoadedRole; entry: RoleEntry }[] = [];
  const seen = new Set<string>();
  const visit = (entry: RoleEntry, chain: string[]) => {
    if (chain.includes(entry.name))
      throw new RoleError(`role "${entry.name}" depends on itself: ${[...chain, entry.name].join(' -> ')}`);
    const role = loadRole(entry.name, playbookDir, chain.length ? {} : from);
    role.dependencies.forEach((d, i) =>
      visit(roleEntry(d, `${role.dir}/meta/main.yml: dependencies[${i}]`), [...chain, entry.name]),
    );
    const key = `${entry.name} ${JSON.stringify(entry.params)}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ role, entry });
  };
  for (const e of entries) visit(e, []);
  return out;
}
