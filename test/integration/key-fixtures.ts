import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// What the authorized_key, apt_repository and apt_key cases of modules.test.ts put around them.
// The OpenPGP keys are the unit tests' (made with gpg); the host has no gpg, and needs none.

const keyFile = (name: string) => readFileSync(path.join(__dirname, '../fixtures/apt-key', name));
export const FIRST_KEY = { asc: keyFile('cf-test.asc').toString(), id: '364C51490A6FC47B' };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** sha256 of each key as gpg exports it (binary). */
export const KEY_SHA256 = { first: sha256(keyFile('cf-test.gpg')), second: sha256(keyFile('cf-second.gpg')) };

const writeB64 = (b: Buffer, to: string) => `echo ${b.toString('base64')} | base64 -d > ${to}`;

/** nginx (on the host's loopback) serves the second key; a keyring in `d` holds both keys, for a removal. */
export function aptKeySetup(d: string): string {
  return [
    'mkdir -p /var/www/html/cf-it-keys',
    writeB64(keyFile('cf-second.asc'), '/var/www/html/cf-it-keys/second.asc'),
    writeB64(Buffer.concat([keyFile('cf-test.gpg'), keyFile('cf-second.gpg')]), `${d}/old.gpg`),
    'systemctl start nginx',
  ].join(' && ');
}
export const APT_KEY_CLEANUP = `rm -rf /var/www/html/cf-it-keys /etc/apt/trusted.gpg.d/apt_key-${FIRST_KEY.id}.gpg /etc/apt/trusted.gpg.d/cf-it.asc`;

export const SSH_KEYS = {
  old: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCntD9U1in8356UaDVhPp4HaTfPkTvfqa4Qb0i old@lab',
  ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOFH2BIRZkL3WMckzJas6bIoiu3ML2w2D+uSeElcA1s3 ops@lab',
  deploy: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICKrh5mRF7dXn9lFF+Qiz3b82NOWJnamkfdfII01L0FB deploy',
};

/** A user whose ~/.ssh is too open and whose authorized_keys holds a comment and an old key. */
export const AUTHORIZED_KEY_SETUP = [
  'id cf-keys >/dev/null 2>&1 || useradd -m -s /bin/sh cf-keys',
  'install -d -m 0755 /home/cf-keys/.ssh',
  `printf '# by hand\\n%s\\n' '${SSH_KEYS.old}' > /home/cf-keys/.ssh/authorized_keys`,
].join(' && ');
export const AUTHORIZED_KEY_CLEANUP = 'userdel -r cf-keys 2>/dev/null; true';

/**
 * Beside the apt case's local repository (its setup points apt at it alone, sources.list.d being
 * `d`/no-parts): two empty ones, repo2 in a file to be removed from (apt reads it meanwhile, so
 * it must exist) and repo3 to add.
 */
export function aptRepositorySetup(d: string): string {
  return [
    'set -e',
    'for r in repo2 repo3; do',
    `  mkdir -p ${d}/$r && cd ${d}/$r && : > Packages`,
    `  printf 'Suite: cf%s\\nCodename: cf%s\\nSHA256:\\n %s 0 Packages\\n' $r $r $(sha256sum < Packages | cut -d' ' -f1) > Release`,
    'done',
    `printf '# old mirror\\ndeb [trusted=yes] file:${d}/repo2 ./\\n' > ${d}/no-parts/old.list`,
  ].join('\n');
}
