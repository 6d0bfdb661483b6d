import type { HostTarget } from '../../common/hosts';
import type { StorageSection } from '../../common/storage';
import { shellQuote } from '../ssh/quote';
import type { StorageContext } from './context';

// The service user's ids, the same on every host that shares the storage.

type Owner = Omit<StorageSection['owner'], 'mode'>;

export function ownerActivities({ remote }: StorageContext) {
  return {
    /**
     * Seed 002's rule, checked before anything changes: the service user and group have the same
     * ids on every host (or do not exist yet), and no other account holds those ids.
     */
    async storageOwnerProblems(input: { hosts: HostTarget[]; owner: Owner }): Promise<string[]> {
      const { user, uid, gid } = input.owner;
      const group = input.owner.group ?? user;
      const problems: string[] = [];
      await Promise.all(
        input.hosts.map(async (h) => {
          const out = (
            await remote(h).must(
              [
                `getent passwd ${shellQuote(user)} | cut -d: -f3`,
                `echo /`,
                `getent group ${shellQuote(group)} | cut -d: -f3`,
                `echo /`,
                `getent passwd ${uid} | cut -d: -f1`,
                `echo /`,
                `getent group ${gid} | cut -d: -f1`,
              ].join('; '),
              'reading accounts',
            )
          ).stdout
            .split('/')
            .map((s) => s.trim());
          const [u, g, uidHolder, gidHolder] = out;
          if (u && Number(u) !== uid)
            problems.push(`uid: ${user} is ${u} on ${h.name}, the spec says ${uid}`);
          if (g && Number(g) !== gid)
            problems.push(`gid: ${group} is ${g} on ${h.name}, the spec says ${gid}`);
          if (uidHolder && uidHolder !== user)
            problems.push(`uid: ${uid} belongs to ${uidHolder} on ${h.name}`);
          if (gidHolder && gidHolder !== group)
            problems.push(`gid: ${gid} belongs to ${gidHolder} on ${h.name}`);
        }),
      );
      return problems.sort();
    },
  };
}
