import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface AptSource {
  uri: string;
  suites: string[];
}

/** Reads deb822 `.sources` paragraphs and one-line `sources.list` entries of type `deb`. */
export function parseAptSources(text: string, deb822: boolean): AptSource[] {
  if (!deb822) {
    return text
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => line.startsWith('deb '))
      .map((line) => line.replace(/\[[^\]]*\]\s*/, '').split(/\s+/))
      .map(([, uri, suite]) => ({ uri, suites: [suite] }));
  }
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => {
      const fields = new Map<string, string>();
      for (const line of paragraph.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
        if (m && !line.trim().startsWith('#')) fields.set(m[1].toLowerCase(), m[2]);
      }
      if (fields.get('enabled') === 'no' || !(fields.get('types') ?? '').split(/\s+/).includes('deb'))
        return [];
      const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
      return (fields.get('uris') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((uri) => ({ uri, suites }));
    })
    .flat();
}

/** The mirror this machine already uses for `suite` itself (not -security or -updates). */
export function pickMirror(sources: AptSource[], suite: string): string | undefined {
  return sources.find((s) => s.suites.includes(suite))?.uri;
}

export function machineSuite(): string {
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, '');
  if (!codename) throw new Error('cannot tell the Debian release from /etc/os-release (no VERSION_CODENAME)');
  return codename;
}

/**
 * The Debian mirror for the lab's rootfs, read from the machine's own apt configuration so that no
 * registry host is ever written into this repository. CLUSTERFLOW_DEBIAN_MIRROR overrides it.
 */
export function machineMirror(suite: string): string {
  if (process.env.CLUSTERFLOW_DEBIAN_MIRROR) return process.env.CLUSTERFLOW_DEBIAN_MIRROR;
  const sources: AptSource[] = [];
  if (existsSync('/etc/apt/sources.list'))
    sources.push(...parseAptSources(readFileSync('/etc/apt/sources.list', 'utf8'), false));
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith('.sources'))
        sources.push(...parseAptSources(readFileSync(`${dir}/${file}`, 'utf8'), true));
      if (file.endsWith('.list'))
        sources.push(...parseAptSources(readFileSync(`${dir}/${file}`, 'utf8'), false));
    }
  }
  const mirror = pickMirror(sources, suite);
  if (!mirror) {
    throw new Error(
      `no apt source for suite "${suite}" in /etc/apt; set CLUSTERFLOW_DEBIAN_MIRROR to a Debian mirror`,
    );
  }
  return mirror;
}
