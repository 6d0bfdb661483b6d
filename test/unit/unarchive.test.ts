import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  applyScript,
  archiveChanges,
  fileList,
  handlerOf,
  parseTree,
  parseUnpack,
  unpackScript,
  wantedMode,
} from '../../activities/modules/unarchive';
import { checkTask } from '../../client/play-tasks';
import { UnarchiveArgs } from '../../common/modules';
import { taskArguments } from '../../common/task-arguments';

const entry = (type: string, mode: string, extra: Record<string, string> = {}) => ({
  type,
  mode,
  owner: 'root',
  group: 'root',
  link: '',
  ...extra,
});

describe('unarchive arguments and sources', () => {
  it('takes extra_opts as a list or a string, and refuses a URL or a relative path on the host', () => {
    expect(
      UnarchiveArgs.parse({ src: '/a.tgz', dest: '/opt', extra_opts: '--strip-components=1' }).extra_opts,
    ).toEqual(['--strip-components=1']);
    expect(
      taskArguments('unarchive', { src: 'http://127.0.0.1/a.tgz', dest: '/opt' }, {}).problems?.[0],
    ).toMatch(/unarchive\.src: a URL src is not supported yet/);
    expect(
      taskArguments('unarchive', { src: 'a.tgz', dest: '/opt', remote_src: true }, {}).problems?.[0],
    ).toMatch(/absolute path on the host/);
  });

  it("finds a relative src in the role's files/ as copy does, and leaves a host path alone", () => {
    const role = mkdtempSync(path.join(tmpdir(), 'cf-role-'));
    mkdirSync(path.join(role, 'files'));
    writeFileSync(path.join(role, 'files', 'app.tgz'), '');
    const dirs = { copy: [path.join(role, 'files'), role], template: [path.join(role, 'templates'), role] };
    const problems: string[] = [];
    const local = checkTask({ unarchive: { src: 'app.tgz', dest: '/opt' } }, 't', dirs, false, problems);
    expect(local?.args.src).toBe(path.join(role, 'files', 'app.tgz'));
    const remote = checkTask(
      { unarchive: 'src=app.tgz dest=/opt remote_src=yes' },
      't',
      dirs,
      false,
      problems,
    );
    expect(remote?.args.src).toBe('app.tgz');
    expect(problems).toEqual([]);
  });
});

describe('unarchive: what differs', () => {
  it('names the handler ansible-core would use', () => {
    expect(handlerOf('1f8b0800')).toBe('TgzArchive');
    expect(handlerOf('504b0304')).toBe('ZipArchive');
    expect(handlerOf('2e2f0000')).toBe('TarArchive');
  });

  it('reads find and sha1sum listings', () => {
    const tree = parseTree(
      'd\t755\troot\troot\tbin\t\nf\t644\troot\troot\tbin/run\t\nl\t777\troot\troot\tstart\tbin/run\n',
      `${'a'.repeat(40)}  ./bin/run\n`,
    );
    expect(tree.get('bin/run')).toEqual(entry('f', '644', { sha1: 'a'.repeat(40) }));
    expect(tree.get('start')?.link).toBe('bin/run');
    expect(fileList(tree)).toEqual(['bin/', 'bin/run', 'start']);
  });

  it('finds missing paths, other content, another link target, and attributes other than wanted', () => {
    const archive = new Map([
      ['etc', entry('d', '755')],
      ['etc/a.conf', entry('f', '644', { sha1: '1' })],
      ['etc/b.conf', entry('f', '644', { sha1: '2' })],
      ['start', entry('l', '777', { link: 'bin/run' })],
      ['new', entry('f', '644', { sha1: '3' })],
    ]);
    const dest = new Map([
      ['etc', entry('d', '755')],
      ['etc/a.conf', entry('f', '644', { sha1: '1' })],
      ['etc/b.conf', entry('f', '644', { sha1: 'x' })],
      ['start', entry('l', '777', { link: 'elsewhere' })],
    ]);
    expect(archiveChanges(archive, dest, {}).map((c) => `${c.path}: ${c.why}`)).toEqual([
      'etc/b.conf: content differs',
      'new: absent',
      'start: links to elsewhere',
    ]);
    const owned = archiveChanges(archive, archive, { owner: 'app', mode: 'u=rwX,g=rX,o=' });
    expect(owned.map((c) => `${c.path} ${c.mode} ${c.why}`)).toEqual([
      'etc 750 owner root',
      'etc/a.conf 640 owner root',
      'etc/b.conf 640 owner root',
      'new 640 owner root',
      'start - owner root',
    ]);
    expect(wantedMode(entry('f', '755'), { mode: 0o640 })).toBe('640');
  });
});

describe('unarchive: the host scripts, run here with tar', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'cf-unarchive-'));
  const src = path.join(work, 'src', 'app-1.0');
  mkdirSync(path.join(src, 'bin'), { recursive: true });
  writeFileSync(path.join(src, 'bin', 'run'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(path.join(src, 'app.conf'), 'port=80\n');
  symlinkSync('bin/run', path.join(src, 'start'));
  const archive = path.join(work, 'app.tgz');
  spawnSync('tar', ['czf', archive, '-C', path.join(work, 'src'), 'app-1.0']);
  const dest = path.join(work, 'dest');
  mkdirSync(dest);
  const a = UnarchiveArgs.parse({
    src: archive,
    dest,
    extra_opts: ['--strip-components=1'],
    remote_src: true,
  });
  const sh = (script: string, input?: string) => spawnSync('sh', ['-c', script], { input, encoding: 'utf8' });
  const unpack = () => parseUnpack(sh(unpackScript(a, `'${archive}'`, false)).stdout);

  it('unpacks into scratch with extra_opts, copies in only what differs, then finds nothing to do', () => {
    const first = unpack();
    expect(first.rc).toBe(0);
    expect(fileList(first.archive)).toEqual(['app.conf', 'bin/', 'bin/run', 'start']);
    const changes = archiveChanges(first.archive, first.dest, a);
    expect(changes.map((c) => c.path)).toEqual(['app.conf', 'bin', 'bin/run', 'start']);
    const applied = sh(applyScript(first.scratch!, a), changes.map((c) => `${c.mode}\t${c.path}\n`).join(''));
    expect(applied.stderr).toBe('');
    expect(readFileSync(path.join(dest, 'app.conf'), 'utf8')).toBe('port=80\n');
    expect(lstatSync(path.join(dest, 'bin', 'run')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(path.join(dest, 'start'))).toBe('bin/run');
    sh(`rm -rf '${first.scratch}'`);

    writeFileSync(path.join(dest, 'app.conf'), 'port=81\n');
    const second = unpack();
    expect(archiveChanges(second.archive, second.dest, a).map((c) => `${c.path}: ${c.why}`)).toEqual([
      'app.conf: content differs',
    ]);
    sh(`rm -rf '${second.scratch}'`);
  });

  it('says when dest is missing or the file is no archive', () => {
    expect(
      parseUnpack(sh(unpackScript({ ...a, dest: path.join(work, 'nope') }, `'${archive}'`, false)).stdout)
        .noDest,
    ).toBe(true);
    const notArchive = path.join(work, 'plain.txt');
    writeFileSync(notArchive, 'hello, not a tar file at all\n'.repeat(40));
    const r = parseUnpack(sh(unpackScript(a, `'${notArchive}'`, false)).stdout);
    expect(r.rc).not.toBe(0);
    expect(r.error).toMatch(/tar/);
    sh(`rm -rf '${r.scratch}'`);
  });
});
