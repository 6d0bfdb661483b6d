import {
  parseSourceLine,
  parseSources,
  parseSourcesRead,
  planSources,
  retryDelaySeconds,
  sourceFilename,
  sourceLineText,
  type SourcesFile,
} from '../../activities/modules/apt-repository';
import { taskArguments } from '../../common/task-arguments';

const PARTS = '/etc/apt/sources.list.d';
const file = (path: string, content: string): SourcesFile => ({
  path,
  content,
  lines: parseSources(content),
});
const plan = (
  files: SourcesFile[],
  repo: string,
  state: 'present' | 'absent' = 'present',
  filename?: string,
) => planSources(files, repo, state, (s) => sourceFilename(s, filename, PARTS));
const texts = (p: ReturnType<typeof plan>) =>
  Object.fromEntries([...p!.changed].map(([k, lines]) => [k, lines.map(sourceLineText).join('')]));

describe('apt_repository source lines', () => {
  it('reads a source with its blanks made single, a commented-out one, and a trailing comment', () => {
    expect(parseSourceLine('deb   http://10.77.0.9/debian  bookworm main  # mirror\n')).toEqual({
      valid: true,
      enabled: true,
      source: 'deb http://10.77.0.9/debian bookworm main',
      comment: 'mirror',
    });
    expect(parseSourceLine('#deb-src http://10.77.0.8 y z')).toMatchObject({ valid: true, enabled: false });
    expect(parseSourceLine('# just words')).toMatchObject({ valid: false, source: 'just words' });
  });

  it('writes lines back as ansible-core does', () => {
    const lines = parseSources('#deb-src http://10.77.0.8  y z\n\ndeb http://10.77.0.7 b c #c\n');
    expect(lines.map(sourceLineText).join('')).toBe(
      '# deb-src http://10.77.0.8 y z\n\ndeb http://10.77.0.7 b c # c\n',
    );
  });
});

describe('apt_repository file names', () => {
  it('names the file from the URL without options, scheme and credentials', () => {
    expect(
      sourceFilename(
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://u:p@10.77.0.5/linux/debian bookworm stable',
        undefined,
        PARTS,
      ),
    ).toBe(`${PARTS}/10_77_0_5_linux_debian.list`);
    expect(sourceFilename('deb [trusted=yes] file:/tmp/cf-it/repo ./', undefined, PARTS)).toBe(
      `${PARTS}/file_tmp_cf_it_repo.list`,
    );
  });

  it('takes filename with .list added, in sources.list.d unless it is a path', () => {
    expect(sourceFilename('deb http://10.77.0.8 y z', 'nginx', PARTS)).toBe(`${PARTS}/nginx.list`);
    expect(sourceFilename('deb http://10.77.0.8 y z', '/etc/apt/extra', PARTS)).toBe('/etc/apt/extra.list');
  });
});

describe('apt_repository plan', () => {
  const main = file('/etc/apt/sources.list', 'deb http://10.77.0.9/debian bookworm main\n');

  it('adds a new source to its own file, and nothing for one that is there already', () => {
    const p = plan([main], 'deb  http://10.77.0.4/packages/debian bookworm nginx # own comment');
    expect(texts(p)).toEqual({
      [`${PARTS}/10_77_0_4_packages_debian.list`]: 'deb http://10.77.0.4/packages/debian bookworm nginx\n',
    });
    expect(p!.addedTo).toBe(`${PARTS}/10_77_0_4_packages_debian.list`);
    expect(plan([main], 'deb http://10.77.0.9/debian   bookworm main')!.changed.size).toBe(0);
  });

  it('enables a commented-out copy where it is instead of adding one', () => {
    const f = file(`${PARTS}/x.list`, '# header\n#deb http://10.77.0.8 y z\n');
    expect(texts(plan([main, f], 'deb http://10.77.0.8 y z'))).toEqual({
      [`${PARTS}/x.list`]: '# header\ndeb http://10.77.0.8 y z\n',
    });
  });

  it('removes an enabled source from every file, and a file left with no line goes', () => {
    const a = file(`${PARTS}/a.list`, 'deb http://10.77.0.8 y z\n');
    const b = file(`${PARTS}/b.list`, '# keep me\ndeb http://10.77.0.8  y z\n');
    const p = plan([main, a, b], 'deb http://10.77.0.8 y z', 'absent');
    expect(texts(p)).toEqual({ [`${PARTS}/a.list`]: '', [`${PARTS}/b.list`]: '# keep me\n' });
    expect(
      plan([file(`${PARTS}/c.list`, '# deb http://10.77.0.8 y z\n')], 'deb http://10.77.0.8 y z', 'absent')!
        .changed.size,
    ).toBe(0);
  });

  it('refuses a line that is no source', () => {
    expect(plan([main], '# deb http://10.77.0.8 y z')).toBeUndefined();
    expect(plan([main], 'http://10.77.0.8 y z')).toBeUndefined();
  });
});

describe('apt_repository host and arguments', () => {
  it('reads where apt keeps its sources, symlinks and modes from the read report', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const r = parseSourcesRead(
      [
        'parts /tmp/cf-it/no-parts/',
        'file 644||/tmp/cf-it/repo.list',
        b64('deb [trusted=yes] file:/tmp/cf-it/repo ./\n'),
        'file 640|/srv/real.list|/tmp/cf-it/no-parts/link.list',
        b64(''),
      ].join('\n'),
    );
    expect(r.partsDir).toBe('/tmp/cf-it/no-parts');
    expect(r.files.map((f) => [f.path, f.mode, f.target, f.lines.length])).toEqual([
      ['/tmp/cf-it/repo.list', '644', undefined, 1],
      ['/tmp/cf-it/no-parts/link.list', '640', '/srv/real.list', 0],
    ]);
    expect(parseSourcesRead('noapt\n').noApt).toBe(true);
  });

  it('waits 1, 2, 4… seconds between updates, at most update_cache_retry_max_delay, plus jitter', () => {
    expect([0, 1, 2, 3, 4].map((n) => retryDelaySeconds(n, 12, 0))).toEqual([1, 2, 4, 8, 12]);
    expect(retryDelaySeconds(0, 12, 0.5)).toBe(1.5);
  });

  it('refuses a PPA (Launchpad is out of reach) and defaults update_cache to true', () => {
    expect(taskArguments('apt_repository', { repo: 'ppa:nginx/stable' }, {}).problems?.[0]).toMatch(
      /ppa: repository is not supported.*Launchpad/,
    );
    expect(taskArguments('apt_repository', { repo: 'deb http://10.77.0.8 y z' }, {}).args).toMatchObject({
      update_cache: true,
      update_cache_retries: 5,
      state: 'present',
    });
  });
});
