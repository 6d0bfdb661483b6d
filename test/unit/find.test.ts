import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  containsScript,
  fileInfo,
  findScript,
  parseListing,
  selectEntries,
  walkOrder,
  type Entry,
} from '../../activities/modules/find';
import { FindArgs } from '../../common/modules';

const sh = (script: string, input?: string) =>
  spawnSync('sh', ['-c', script], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

describe('find', () => {
  let root: string;
  const listed = (args: Record<string, unknown>) => {
    const a = FindArgs.parse({ paths: [root], ...args });
    const r = sh(findScript(a));
    expect(r.status).toBe(0);
    return { a, listing: parseListing(r.stdout, r.stderr) };
  };
  const found = (args: Record<string, unknown>) => {
    const { a, listing } = listed(args);
    const { selected, examined } = selectEntries(listing, a);
    return { paths: selected.map((e) => path.relative(root, e.path)), examined };
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'cf-find-'));
    mkdirSync(path.join(root, 'logs/old'), { recursive: true });
    mkdirSync(path.join(root, '.git'));
    writeFileSync(path.join(root, 'app.log'), 'started\nERROR disk full\n');
    writeFileSync(path.join(root, 'app.conf'), 'x'.repeat(2048));
    writeFileSync(path.join(root, '.env'), 'A=1\n');
    writeFileSync(path.join(root, '.git/config'), '[core]\n');
    writeFileSync(path.join(root, 'logs/a.log'), 'ok\n');
    writeFileSync(path.join(root, 'logs/old/b.log'), 'ok\n');
    symlinkSync(path.join(root, 'logs'), path.join(root, 'current'));
    const old = Date.now() / 1000 - 10 * 86400;
    utimesSync(path.join(root, 'logs/old/b.log'), old, old);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists only the top directory without recurse, files only, no hidden ones', () => {
    expect(found({}).paths.sort()).toEqual(['app.conf', 'app.log']);
    expect(found({}).examined).toBe(6);
  });

  it('descends with recurse, and still into hidden directories, as ansible-core does', () => {
    expect(found({ recurse: true, patterns: '*.log,config' }).paths.sort()).toEqual([
      '.git/config',
      'app.log',
      'logs/a.log',
      'logs/old/b.log',
    ]);
  });

  it('stops at depth, reading one level more for examined', () => {
    const r = found({ recurse: true, depth: 2, patterns: ['*.log'] });
    expect(r.paths.sort()).toEqual(['app.log', 'logs/a.log']);
    expect(r.examined).toBe(6 + 3 + 1);
  });

  it('selects by age and size, a negative one meaning at most', () => {
    expect(found({ recurse: true, age: '5d' }).paths).toEqual(['logs/old/b.log']);
    expect(found({ recurse: true, age: '-1h', patterns: '*.log' }).paths.sort()).toEqual([
      'app.log',
      'logs/a.log',
    ]);
    expect(found({ size: '2k' }).paths).toEqual(['app.conf']);
    expect(found({ size: '-1k' }).paths).toEqual(['app.log']);
  });

  it('selects directories and links by file_type, hidden ones with hidden', () => {
    expect(found({ file_type: 'directory', hidden: true }).paths.sort()).toEqual(['.git', 'logs']);
    expect(found({ file_type: 'link' }).paths).toEqual(['current']);
    expect(found({ hidden: true, patterns: '.*' }).paths).toEqual(['.env']);
  });

  it('matches use_regex patterns at the start of the name, and excludes win', () => {
    expect(found({ use_regex: true, patterns: ['app\\.'], excludes: ['.*conf$'] }).paths).toEqual([
      'app.log',
    ]);
  });

  it('reports a path that is not a directory as skipped', () => {
    const { listing } = listed({ paths: [path.join(root, 'app.log'), root] });
    expect(listing.skipped).toEqual({
      [path.join(root, 'app.log')]: `'${path.join(root, 'app.log')}' is not a directory`,
    });
    expect(listing.walks).toHaveLength(1);
  });

  it('reports each file with ansible-core stat fields', () => {
    const { listing } = listed({});
    const conf = listing.walks[0].entries.find((e) => e.name === 'app.conf')!;
    expect(fileInfo(conf)).toMatchObject({
      path: path.join(root, 'app.conf'),
      isreg: true,
      isdir: false,
      islnk: false,
      size: 2048,
      uid: process.getuid!(),
      pw_name: expect.any(String),
      mode: expect.stringMatching(/^0[0-7]{3}$/),
    });
  });

  it('greps contains at the start of a line, or anywhere with read_whole_file', () => {
    const files = `${path.join(root, 'app.log')}\0${path.join(root, 'logs/a.log')}\0`;
    expect(sh(containsScript('ERROR', false), files).stdout).toBe(`${path.join(root, 'app.log')}\0`);
    expect(sh(containsScript('disk', false), files).stdout).toBe('');
    expect(sh(containsScript('disk', true), files).stdout).toBe(`${path.join(root, 'app.log')}\0`);
  });
});

describe('find order', () => {
  const entry = (p: string, type = 'f', target = type): Entry =>
    ({ path: p, name: path.basename(p), depth: p.split('/').length - 2, type, target }) as Entry;

  it('gives each directory its files, then its directories, then descends (os.walk topdown)', () => {
    const entries = [
      entry('/r/d1', 'd'),
      entry('/r/d1/x'),
      entry('/r/a'),
      entry('/r/ln', 'l', 'd'),
      entry('/r/d2', 'd'),
      entry('/r/d2/y'),
      entry('/r/b'),
    ];
    expect(walkOrder('/r', entries).map((e) => e.path)).toEqual([
      '/r/a',
      '/r/b',
      '/r/d1',
      '/r/ln',
      '/r/d2',
      '/r/d1/x',
      '/r/d2/y',
    ]);
  });
});
