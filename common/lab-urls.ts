// Which URLs a host can fetch from when the hosts have no route to the internet, as in the lab:
// the host's own loopback, private (RFC 1918, IPv6 unique-local and link-local) addresses, and
// names without a dot (an inventory host's name, from /etc/hosts). Workflow-safe: pure.

const LOOPBACK_NAME = /^(localhost|.+\.localhost)$/i;

function ipv4Private(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function ipv6Private(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === '::1' || /^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h);
}

/** Pure: whether a host name or address is one a lab host reaches without the internet. */
export function isLabHost(host: string): boolean {
  if (host.startsWith('[')) return ipv6Private(host);
  return LOOPBACK_NAME.test(host) || ipv4Private(host) || (!host.includes('.') && !host.includes(':'));
}

/** Pure: why a host could not fetch `url` here (an internet address), or undefined when it can. */
export function labUrlProblem(url: string, what: string, shown = url): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `${what} ${shown} is not a URL`;
  }
  if (isLabHost(host)) return undefined;
  return `${what} ${shown}: the hosts have no route to the internet here; fetch from a loopback or lab address (127.0.0.1, a 10.x address, an inventory host name), or give the content itself`;
}

/**
 * Pure: the HKP lookup URL for a key on a keyserver, as gpg asks it: `keyserver.example` and
 * `hkp://` mean http on port 11371, `hkps://` https on 443; http(s):// are taken as written.
 */
export function keyserverLookupUrl(keyserver: string, keyId: string): string {
  const m = /^(hkps?|https?):\/\/(.*)$/i.exec(keyserver);
  const scheme = (m?.[1] ?? 'hkp').toLowerCase();
  const authority = (m ? m[2] : keyserver).replace(/\/.*$/, '');
  const hasPort = /:\d+$/.test(authority);
  const base =
    scheme === 'hkp'
      ? `http://${authority}${hasPort ? '' : ':11371'}`
      : scheme === 'hkps'
        ? `https://${authority}`
        : `${scheme}://${authority}`;
  return `${base}/pks/lookup?op=get&options=mr&search=0x${keyId.replace(/^0x/i, '')}`;
}
