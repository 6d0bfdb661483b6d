// mysql_user's tls_requires, as community.mysql compares it: what the task asks for and what the
// account's row of mysql.user holds, both brought to the form of that row (ssl_type and the three
// strings beside it), so a second run finds them equal. Pure: the schema reads the option with it
// and the plan renders the REQUIRE clause from it.

export const TLS_REQUIREMENTS = ['SSL', 'X509', 'CIPHER', 'ISSUER', 'SUBJECT'] as const;

/** An account's requirement: mysql.user's ssl_type ('' none, ANY for SSL, X509, SPECIFIED). */
export interface TlsRequirement {
  type: '' | 'ANY' | 'X509' | 'SPECIFIED';
  cipher: string;
  issuer: string;
  subject: string;
}

export const NO_TLS: TlsRequirement = { type: '', cipher: '', issuer: '', subject: '' };

/**
 * The option as community.mysql reads it: keys in any case; CIPHER, ISSUER or SUBJECT make SSL
 * and X509 redundant; X509 implies SSL; an empty mapping (or none) is REQUIRE NONE.
 */
export function tlsRequirement(spec: Record<string, string | null> | null | undefined): TlsRequirement {
  if (!spec || !Object.keys(spec).length) return NO_TLS;
  const upper = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k.toUpperCase(), v ?? '']));
  const specified = { cipher: upper.CIPHER ?? '', issuer: upper.ISSUER ?? '', subject: upper.SUBJECT ?? '' };
  if (['CIPHER', 'ISSUER', 'SUBJECT'].some((k) => k in upper)) return { type: 'SPECIFIED', ...specified };
  return { ...NO_TLS, type: 'X509' in upper ? 'X509' : 'ANY' };
}

/** The requirement of an account's mysql.user row (the strings are BLOBs: Buffers from the driver). */
export function tlsOfAccount(row: Record<string, unknown>): TlsRequirement {
  const text = (v: unknown) =>
    v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString() : String(v);
  const found = {
    cipher: text(row.ssl_cipher),
    issuer: text(row.x509_issuer),
    subject: text(row.x509_subject),
  };
  if (found.cipher || found.issuer || found.subject) return { type: 'SPECIFIED', ...found };
  const type = text(row.ssl_type).toUpperCase();
  return { ...NO_TLS, type: type === 'ANY' || type === 'X509' ? type : '' };
}

export const sameTls = (a: TlsRequirement, b: TlsRequirement) =>
  a.type === b.type && a.cipher === b.cipher && a.issuer === b.issuer && a.subject === b.subject;

/** ` REQUIRE …` with the strings as parameters. */
export function requireClause(t: TlsRequirement): { sql: string; values: string[] } {
  if (t.type !== 'SPECIFIED')
    return { sql: ` REQUIRE ${{ '': 'NONE', ANY: 'SSL', X509: 'X509' }[t.type]}`, values: [] };
  const parts = (['cipher', 'issuer', 'subject'] as const).filter((k) => t[k]);
  return {
    sql: ` REQUIRE ${parts.map((k) => `${k.toUpperCase()} ?`).join(' AND ')}`,
    values: parts.map((k) => t[k]),
  };
}

/** What --diff shows: the REQUIRE clause as written, strings quoted. */
export function tlsText(t: TlsRequirement): string {
  const { sql, values } = requireClause(t);
  let i = 0;
  return sql.trim().replace(/\?/g, () => JSON.stringify(values[i++]));
}
