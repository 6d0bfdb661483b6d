import {
  ganeshaBlock,
  mergeExports,
  mergeGanesha,
  parseExportfsVerbose,
} from '../../activities/storage/exports';

// Seed 002's export: all_squash to the service user's ids, one entry per app node.
const SEED = {
  path: '/var/opt/filestore',
  clients: [
    {
      match: '10.20.30.213',
      options: ['rw', 'no_subtree_check', 'all_squash', 'anonuid=1001', 'anongid=1001'],
    },
    {
      match: '10.20.30.215',
      options: ['rw', 'no_subtree_check', 'all_squash', 'anonuid=1001', 'anongid=1001'],
    },
  ],
};
const SEED_LINE =
  '/var/opt/filestore 10.20.30.213(rw,no_subtree_check,all_squash,anonuid=1001,anongid=1001) 10.20.30.215(rw,no_subtree_check,all_squash,anonuid=1001,anongid=1001)';

describe('/etc/exports', () => {
  it("writes the seed's line into Debian's commented default file, once", () => {
    const debian = '# /etc/exports: the access control list for filesystems which may be exported\n#\n';
    const once = mergeExports(debian, [SEED]);
    expect(once).toBe(`${debian}${SEED_LINE}\n`);
    expect(mergeExports(once, [SEED])).toBe(once);
  });

  it("sets our clients' options on an existing line and keeps a client the operator added", () => {
    const existing =
      '/var/opt/filestore 10.20.30.213(ro) backup.example(ro,no_root_squash)\n/srv/other *(ro)\n';
    expect(mergeExports(existing, [SEED])).toBe(
      '/var/opt/filestore 10.20.30.213(rw,no_subtree_check,all_squash,anonuid=1001,anongid=1001) backup.example(ro,no_root_squash) 10.20.30.215(rw,no_subtree_check,all_squash,anonuid=1001,anongid=1001)\n/srv/other *(ro)\n',
    );
  });

  it('reads an entry continued with a backslash and drops a second line for the same path', () => {
    const split =
      '/var/opt/filestore 10.20.30.213(ro) \\\n    10.20.30.215(ro)\n/var/opt/filestore 10.9.9.9(rw)\n';
    expect(mergeExports(split, [SEED])).toBe(`${SEED_LINE}\n`);
  });
});

describe('exportfs -v', () => {
  it('reads short and long paths, the client on the next line for a long one', () => {
    const out = [
      '/srv/share    \t10.77.0.12(sync,wdelay,hide,no_subtree_check,anonuid=1001,anongid=1001,sec=sys,rw,secure,root_squash,all_squash)',
      '/var/opt/filestore',
      '\t\t10.20.30.213(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,root_squash,no_all_squash)',
      '',
    ].join('\n');
    const parsed = parseExportfsVerbose(out);
    expect(parsed.get('/srv/share')?.get('10.77.0.12')).toContain('all_squash');
    expect(parsed.get('/srv/share')?.get('10.77.0.12')).toContain('anonuid=1001');
    expect(parsed.get('/var/opt/filestore')?.get('10.20.30.213')).toContain('no_all_squash');
    expect([...parsed.keys()]).toEqual(['/srv/share', '/var/opt/filestore']);
  });
});

describe('nfs-ganesha EXPORT blocks', () => {
  it('maps the exports options to ganesha: all_squash, anonymous ids, read-write per client', () => {
    const block = ganeshaBlock(SEED, 100);
    expect(block).toContain('Path = "/var/opt/filestore";');
    expect(block).toContain('Squash = All_Squash;');
    expect(block).toContain('Anonymous_Uid = 1001;');
    expect(block).toContain('Anonymous_Gid = 1001;');
    expect(block.match(/Clients = 10\.20\.30\.21[35];\n\s+Access_Type = RW;/g)).toHaveLength(2);
    expect(block.startsWith('# BEGIN clusterflow export /var/opt/filestore\nEXPORT {')).toBe(true);
  });

  it('replaces its own block in place and leaves the rest of ganesha.conf alone', () => {
    const conf = 'NFS_CORE_PARAM {\n    Protocols = 4;\n}\n';
    const once = mergeGanesha(conf, [SEED]);
    expect(once.startsWith(conf)).toBe(true);
    expect(mergeGanesha(once, [SEED])).toBe(once);
    const changed = mergeGanesha(once, [{ ...SEED, clients: [SEED.clients[0]] }]);
    expect(changed.match(/EXPORT \{/g)).toHaveLength(1);
    expect(changed).not.toContain('10.20.30.215');
  });
});
