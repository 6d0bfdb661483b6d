// NFS export configuration as text: /etc/exports lines for the kernel server and EXPORT blocks for
// nfs-ganesha. Pure functions, so merging with what an operator already has is unit-tested.

export interface ExportEntry {
  path: string;
  clients: { match: string; options: string[] }[];
}

/** exports(5): `path client(opt,opt) client(opt)`; a trailing backslash continues a line. */
function logicalLines(text: string): { text: string; raw: string[] }[] {
  const out: { text: string; raw: string[] }[] = [];
  let pending: string[] = [];
  for (const line of text.split('\n')) {
    pending.push(line);
    if (line.endsWith('\\')) continue;
    out.push({ text: pending.map((l) => l.replace(/\\$/, '')).join(' '), raw: pending });
    pending = [];
  }
  if (pending.length) out.push({ text: pending.join(' '), raw: pending });
  return out;
}

function parseEntry(text: string): ExportEntry | undefined {
  const t = text.trim();
  if (!t || t.startsWith('#')) return undefined;
  const [path, ...rest] = t.split(/\s+/);
  const clients = rest.map((c) => {
    const m = /^([^(]*)(?:\(([^)]*)\))?$/.exec(c);
    return { match: m?.[1] ?? c, options: m?.[2] ? m[2].split(',') : [] };
  });
  return { path: path.replace(/^"|"$/g, ''), clients };
}

const render = (e: ExportEntry) =>
  `${e.path} ${e.clients.map((c) => `${c.match}(${c.options.join(',')})`).join(' ')}`;

/**
 * /etc/exports with one line per wanted path: our clients get exactly the options the spec gives,
 * clients an operator added to the same path stay as they are, other paths are untouched.
 */
export function mergeExports(text: string, wanted: ExportEntry[]): string {
  const lines = logicalLines(text);
  const out: string[] = [];
  const done = new Set<string>();
  for (const line of lines) {
    const entry = parseEntry(line.text);
    const want = entry && wanted.find((w) => w.path === entry.path);
    if (!entry || !want) {
      out.push(...line.raw);
      continue;
    }
    if (done.has(want.path)) continue; // a second line for the same path would shadow ours
    done.add(want.path);
    const clients = entry.clients.map((c) => want.clients.find((w) => w.match === c.match) ?? c);
    for (const w of want.clients) if (!clients.some((c) => c.match === w.match)) clients.push(w);
    out.push(render({ path: want.path, clients }));
  }
  const missing = wanted.filter((w) => !done.has(w.path));
  while (missing.length && out.length && out[out.length - 1] === '') out.pop();
  for (const w of missing) out.push(render(w));
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** What `exportfs -v` shows: path → client → options (for verifying the running server). */
export function parseExportfsVerbose(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let path: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    // Long paths put the client on the next line.
    const m = /^(\/\S*)(?:\s+(\S+?)\(([^)]*)\))?$/.exec(line);
    const c = /^(\S+?)\(([^)]*)\)$/.exec(line);
    if (m) {
      path = m[1];
      if (!out.has(path)) out.set(path, new Map());
      if (m[2]) out.get(path)?.set(m[2], m[3].split(','));
    } else if (c && path) {
      out.get(path)?.set(c[1], c[2].split(','));
    }
  }
  return out;
}

/** The block of one export in ganesha.conf, between markers so it can be replaced in place. */
export function ganeshaBlock(e: ExportEntry, id: number): string {
  const opts = new Set(e.clients.flatMap((c) => c.options));
  const value = (k: string) => [...opts].find((o) => o.startsWith(`${k}=`))?.split('=')[1];
  const squash = opts.has('all_squash')
    ? 'All_Squash'
    : opts.has('no_root_squash')
      ? 'No_Root_Squash'
      : 'Root_Squash';
  const client = (c: ExportEntry['clients'][number]) =>
    `    CLIENT {\n        Clients = ${c.match};\n        Access_Type = ${c.options.includes('ro') ? 'RO' : 'RW'};\n    }`;
  return [
    `# BEGIN clusterflow export ${e.path}`,
    'EXPORT {',
    `    Export_Id = ${id};`,
    `    Path = "${e.path}";`,
    `    Pseudo = "${e.path}";`,
    '    Access_Type = None;',
    `    Squash = ${squash};`,
    ...(value('anonuid') ? [`    Anonymous_Uid = ${value('anonuid')};`] : []),
    ...(value('anongid') ? [`    Anonymous_Gid = ${value('anongid')};`] : []),
    '    Protocols = 3, 4;',
    '    Transports = TCP;',
    '    SecType = sys;',
    '    FSAL {\n        Name = VFS;\n    }',
    ...e.clients.map(client),
    '}',
    `# END clusterflow export ${e.path}`,
  ].join('\n');
}

/** ganesha.conf with our block for each export replaced or appended; Export_Ids stay stable by order. */
export function mergeGanesha(text: string, wanted: ExportEntry[]): string {
  let out = text.replace(/\n*$/, '\n');
  wanted.forEach((e, i) => {
    const block = ganeshaBlock(e, 100 + i);
    const begin = `# BEGIN clusterflow export ${e.path}`;
    const end = `# END clusterflow export ${e.path}`;
    const a = out.indexOf(begin);
    const b = out.indexOf(end);
    out = a >= 0 && b > a ? `${out.slice(0, a)}${block}${out.slice(b + end.length)}` : `${out}\n${block}\n`;
  });
  return out;
}
