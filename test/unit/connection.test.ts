import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BadConnectionSettings, connectionOptions, temporalSettings } from '../../client/connection';

// How the CLI and the worker reach a production Temporal cluster: the temporal CLI's flags and
// environment variables, turned into one set of connection options.

const dir = mkdtempSync(path.join(tmpdir(), 'cf-conn-'));
const file = (name: string, text: string) => {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

const ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CERT',
  'TEMPORAL_TLS_KEY',
  'TEMPORAL_TLS_CA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV)
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});
beforeEach(() => ENV.forEach((k) => delete process.env[k]));

describe('connection settings', () => {
  it('connects in plain text to the local dev server by default', () => {
    expect(connectionOptions(temporalSettings())).toEqual({ address: '127.0.0.1:7233', apiKey: undefined });
  });

  it('reads mTLS files and the server name from the environment, like the temporal CLI', () => {
    process.env.TEMPORAL_ADDRESS = '10.77.0.5:7233';
    process.env.TEMPORAL_TLS_CERT = file('client.pem', 'CERT');
    process.env.TEMPORAL_TLS_KEY = file('client.key', 'KEY');
    process.env.TEMPORAL_TLS_CA = file('ca.pem', 'CA');
    process.env.TEMPORAL_TLS_SERVER_NAME = 'temporal-frontend';
    const o = connectionOptions(temporalSettings());
    expect(o.address).toBe('10.77.0.5:7233');
    expect(o.tls).toEqual({
      clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') },
      serverRootCACertificate: Buffer.from('CA'),
      serverNameOverride: 'temporal-frontend',
    });
  });

  it('turns TLS on for an API key read from a file, and flags win over the environment', () => {
    process.env.TEMPORAL_API_KEY = 'from-env';
    const o = connectionOptions(
      temporalSettings({ apiKeyFile: file('api.key', 'from-file\n'), address: 'x:7233' }),
    );
    expect(o).toEqual({ address: 'x:7233', tls: true, apiKey: 'from-file' });
    expect(connectionOptions(temporalSettings()).apiKey).toBe('from-env');
  });

  it('refuses half an mTLS pair and unreadable files, naming the flag', () => {
    expect(() => connectionOptions(temporalSettings({ tlsCertPath: file('c.pem', 'C') }))).toThrow(
      new BadConnectionSettings('--tls-cert-path and --tls-key-path go together (mTLS needs both)'),
    );
    expect(() => connectionOptions(temporalSettings({ tlsCaPath: path.join(dir, 'missing.pem') }))).toThrow(
      /--tls-ca-path: cannot read .*missing\.pem \(ENOENT\)/,
    );
    expect(() => temporalSettings({ apiKeyFile: path.join(dir, 'nope') })).toThrow(
      /--api-key-file: cannot read/,
    );
  });
});
