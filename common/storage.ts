import { z } from 'zod';
import { HostRef, HostRefs } from './db';
import { FileModeSchema } from './file-mode';
import type { HostTarget } from './hosts';

// The `storage:` section of the cluster spec: one shared path on every node with one owner, served
// by NFS (kernel nfsd or nfs-ganesha) or GlusterFS. Workflow-safe: schemas and plain data only.
// Every object the operator writes is strict: a typo'd key is an error, never a silent default.

const AbsPath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'an absolute path of letters, digits, . _ - /');
const UnixName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a Unix user or group name');
/** One exports(5) option: `rw`, `anonuid=1001`, `sec=sys`... never a space, comma or parenthesis. */
const ExportOption = z
  .string()
  .regex(/^[a-z_]+(=[A-Za-z0-9:._-]+)?$/, 'an exports option like rw or anonuid=1001');
const MountOption = z
  .string()
  .regex(/^[a-z_]+(=[A-Za-z0-9:._/-]+)?$/, 'a mount option like _netdev or vers=4.1');

export const OwnerSchema = z.strictObject({
  user: UnixName,
  uid: z.number().int().min(1),
  group: UnixName.optional(),
  gid: z.number().int().min(1),
  /** As a module's mode: 0770 (YAML 1.1 octal), "0770" or symbolic like "u=rwx,g=rwx,o=". */
  mode: FileModeSchema.default(0o770),
});

export const NfsExportSchema = z.strictObject({
  path: AbsPath,
  /** Who may mount, with exports(5) options each: inventory hosts/groups or addresses/CIDRs. */
  clients: z
    .array(
      z.strictObject({
        hosts: z.union([
          z
            .string()
            .regex(/^[A-Za-z0-9_.:/*-]+$/)
            .transform((h) => [h]),
          z.array(z.string().regex(/^[A-Za-z0-9_.:/*-]+$/)),
        ]),
        options: z.array(ExportOption).default(['rw', 'sync', 'no_subtree_check']),
      }),
    )
    .min(1),
});

export const StorageClientsSchema = z.strictObject({
  hosts: HostRefs,
  /** Where every node sees the storage. */
  mountPoint: AbsPath,
  /** NFS: protocol version; GlusterFS ignores it. */
  version: z
    .string()
    .regex(/^[34](\.[0-2])?$/, 'an NFS version like 4.1')
    .default('4.1'),
  hard: z.boolean().default(true),
  options: z.array(MountOption).default([]),
  /** InterWorx (seed 001): mount at /chroot and make /home a link to /chroot/home. */
  chrootHome: z.boolean().default(false),
});

export const StorageSectionSchema = z
  .strictObject({
    kind: z.enum(['nfs', 'glusterfs']),
    /** The service user and group with the same ids on the server(s) and every client. */
    owner: OwnerSchema,
    nfs: z
      .strictObject({
        server: HostRef,
        backend: z.enum(['kernel', 'ganesha']).default('kernel'),
        exports: z.array(NfsExportSchema).min(1),
      })
      .optional(),
    glusterfs: z
      .strictObject({
        servers: z.array(HostRef).min(2),
        volume: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a volume name'),
        replica: z.number().int().min(2).default(2),
        /** Brick directory on every server. */
        brick: AbsPath,
        /** Bricks on the root filesystem need `force`; only when the spec says so. */
        allowRootBrick: z.boolean().default(false),
        options: z
          .record(z.string().regex(/^[a-z0-9.-]+$/), z.string().regex(/^[A-Za-z0-9._:-]+$/))
          .default({}),
        /** Peer probes retried this long until every peer is "Peer in Cluster". */
        peerTimeoutSeconds: z.number().positive().default(60),
      })
      .optional(),
    clients: StorageClientsSchema,
  })
  .superRefine((s, ctx) => {
    if (s.kind === 'nfs' && !s.nfs)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['nfs'], message: 'required for kind nfs' });
    if (s.kind === 'glusterfs' && !s.glusterfs)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['glusterfs'],
        message: 'required for kind glusterfs',
      });
    if (s.glusterfs && s.glusterfs.servers.length % s.glusterfs.replica !== 0)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['glusterfs', 'servers'],
        message: `${s.glusterfs.servers.length} servers do not make whole replica-${s.glusterfs.replica} sets`,
      });
  });

export type StorageSection = z.infer<typeof StorageSectionSchema>;
export type NfsExport = z.infer<typeof NfsExportSchema>;

export interface StorageInput {
  cluster: string;
  section: StorageSection;
  /** NFS server or GlusterFS servers. */
  servers: HostTarget[];
  clients: HostTarget[];
  /** Export client entries with inventory names resolved to addresses. */
  exports: { path: string; clients: { match: string; options: string[] }[] }[];
}
