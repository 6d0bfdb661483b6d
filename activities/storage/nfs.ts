import { FailureTypes } from '../../common/errors';
import { ApplicationFailure } from '@temporalio/common';
import type { HostTarget } from '../../common/hosts';
import type { Remote } from '../remote';
import { shellQuote } from '../ssh/quote';
import { sleep, type StorageContext } from './context';
import { mergeExports, mergeGanesha, parseExportfsVerbose, type ExportEntry } from './exports';

// NFS exports on the server, kernel nfsd or nfs-ganesha: the config merged, applied, and checked
// to be really served.

const GANESHA_CONF = '/etc/ganesha/ganesha.conf';

/** Replaces a file when its text differs; true if it changed. */
async function converge(r: Remote, path: string, edit: (text: string) => string): Promise<boolean> {
  const current = (await r.stat(path, true)).content?.toString('utf8') ?? '';
  const wanted = edit(current);
  if (wanted === current) return false;
  await r.writeFile(path, wanted, { mode: '0644' });
  return true;
}

export function nfsActivities({ remote, hooks }: StorageContext) {
  return {
    /** The export entries in the server's config, applied and verified. Returns what changed. */
    async nfsExport(input: {
      server: HostTarget;
      backend: 'kernel' | 'ganesha';
      exports: ExportEntry[];
    }): Promise<{ changed: string[]; serving: boolean; reason?: string }> {
      const r = remote(input.server);
      const changed: string[] = [];
      if (input.backend === 'kernel') {
        if (await converge(r, '/etc/exports', (t) => mergeExports(t, input.exports)))
          changed.push('/etc/exports');
        await r.must('exportfs -ra', 'exportfs -ra');
        const live = parseExportfsVerbose((await r.must('exportfs -v', 'exportfs -v')).stdout);
        for (const e of input.exports)
          for (const c of e.clients) {
            const options = live.get(e.path)?.get(c.match);
            const missing = c.options.filter((o) => !options?.includes(o));
            if (!options || missing.length)
              throw ApplicationFailure.nonRetryable(
                `${input.server.name}: exportfs -v does not show ${e.path} to ${c.match}${options ? ` with ${missing.join(',')}` : ''}`,
                FailureTypes.ExportNotLive,
              );
          }
        // exportfs works from userspace (etab); serving needs the kernel's nfsd. Say it plainly.
        const nfsd = (
          await r.run(
            `grep -qw nfsd /proc/filesystems && echo builtin || (modprobe -n -q nfsd 2>/dev/null && echo module) || echo none`,
          )
        ).stdout;
        if (nfsd.includes('none'))
          return {
            changed,
            serving: false,
            reason: `${input.server.name}: the kernel has no NFS server (no nfsd in /proc/filesystems, modprobe -n nfsd finds no module): the exports are configured and shown by exportfs -v, but nothing serves them`,
          };
        if ((await r.run('systemctl is-active -q nfs-server')).exitCode !== 0) {
          await r.must('systemctl enable -q --now nfs-server', 'starting nfs-server');
          changed.push('nfs-server started');
        }
        return { changed, serving: true };
      }
      if (await converge(r, GANESHA_CONF, (t) => mergeGanesha(t, input.exports))) {
        changed.push(GANESHA_CONF);
        await r.must(
          'systemctl enable -q nfs-ganesha && systemctl restart nfs-ganesha',
          'restarting nfs-ganesha',
        );
      } else if ((await r.run('systemctl is-active -q nfs-ganesha')).exitCode !== 0) {
        await r.must('systemctl enable -q --now nfs-ganesha', 'starting nfs-ganesha');
        changed.push('nfs-ganesha started');
      }
      // Serving once every export is loaded (ganesha's admin interface lists it) and NFS's port
      // answers. An export whose path gives no file handles is silently left out; say why.
      const paths = input.exports.map((e) => e.path);
      for (let i = 0; ; i++) {
        const state = await r.run(
          `ss -Hltn '( sport = :2049 )' | grep -q . && echo listening; ` +
            `dbus-send --system --print-reply --dest=org.ganesha.nfsd /org/ganesha/nfsd/ExportMgr org.ganesha.nfsd.exportmgr.ShowExports 2>/dev/null | grep -o 'string "/[^"]*"'`,
        );
        const loaded = [...state.stdout.matchAll(/string "([^"]+)"/g)].map((m) => m[1]);
        const missing = paths.filter((p) => !loaded.includes(p));
        if (state.stdout.includes('listening') && missing.length === 0) break;
        if (i > 100) {
          const why = (
            await r.run(
              `grep -h CRIT /var/log/ganesha/ganesha.log 2>/dev/null | grep -F -e ${missing.map(shellQuote).join(' -e ') || "''"} | tail -2`,
            )
          ).stdout.trim();
          throw ApplicationFailure.nonRetryable(
            `${input.server.name}: nfs-ganesha does not serve ${missing.join(', ') || 'NFS on port 2049'}${why ? `: ${why}` : ''}`,
            FailureTypes.ExportNotLive,
          );
        }
        hooks().onTick?.();
        await sleep(200);
      }
      return { changed, serving: true };
    },
  };
}
