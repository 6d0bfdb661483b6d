import type { HostTarget } from '../../common/hosts';
import { shellQuote } from '../ssh/quote';
import type { StorageContext } from './context';

// The client side: whether a host's kernel can mount the storage, and InterWorx's /home moved
// into the mount.

export function mountActivities({ remote }: StorageContext) {
  return {
    /**
     * Can this kernel mount the storage at all? Feature detection before anything changes, so a
     * kernel without an NFS client (or a host without /dev/fuse) is said plainly instead of as an
     * error from inside mount(8).
     */
    async mountSupport(input: {
      host: HostTarget;
      kind: 'nfs' | 'glusterfs';
    }): Promise<{ supported: boolean; reason?: string }> {
      const r = remote(input.host);
      if (input.kind === 'nfs') {
        const out = (
          await r.run(
            `grep -qw nfs4 /proc/filesystems && echo builtin || (modprobe -n -q nfs 2>/dev/null && echo module) || echo none`,
          )
        ).stdout;
        return out.includes('none')
          ? {
              supported: false,
              reason: `${input.host.name}: the kernel has no NFS client (no nfs4 in /proc/filesystems, modprobe -n nfs finds no module)`,
            }
          : { supported: true };
      }
      const out = (await r.run(`test -c /dev/fuse && echo dev; grep -qw fuse /proc/filesystems && echo fs`))
        .stdout;
      if (!out.includes('dev'))
        return { supported: false, reason: `${input.host.name}: no /dev/fuse (GlusterFS mounts with FUSE)` };
      if (!out.includes('fs'))
        return { supported: false, reason: `${input.host.name}: the kernel has no FUSE filesystem` };
      return { supported: true };
    },

    /** InterWorx (seed 001): /home becomes a link into the shared mount; the old /home is kept aside. */
    async homeLink(input: { host: HostTarget; target: string }): Promise<boolean> {
      const r = remote(input.host);
      const t = shellQuote(input.target);
      const now = (await r.run(`readlink /home`)).stdout.trim();
      if (now === input.target) return false;
      await r.must(
        `mkdir -p ${t} && if [ -L /home ]; then rm /home; elif [ -e /home ]; then cp -a /home/. ${t}/ && mv /home /home.before-clusterflow; fi && ln -s ${t} /home`,
        '/home → shared storage',
      );
      return true;
    },
  };
}
