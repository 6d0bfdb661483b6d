import {
  blockInFile,
  editIni,
  editProperties,
  lineInFile,
  parseProperties,
} from '../../activities/modules/text-edits';

describe('lineinfile', () => {
  it('appends a missing line, and a second run changes nothing', () => {
    const once = lineInFile('a\nb\n', { line: 'c', state: 'present' });
    expect(once).toBe('a\nb\nc\n');
    expect(lineInFile(once, { line: 'c', state: 'present' })).toBe(once);
  });

  it('replaces the last line matching regexp', () => {
    expect(lineInFile('port=1\nx\nport=2\n', { line: 'port=80', regexp: '^port=', state: 'present' })).toBe(
      'port=1\nx\nport=80\n',
    );
  });

  it('inserts after the last match of insertafter, or before the first of insertbefore', () => {
    expect(lineInFile('[a]\nx\n[b]\n', { line: 'y', insertafter: '^\\[a\\]', state: 'present' })).toBe(
      '[a]\ny\nx\n[b]\n',
    );
    expect(lineInFile('x\n[b]\n', { line: 'y', insertbefore: '^\\[b\\]', state: 'present' })).toBe(
      'x\ny\n[b]\n',
    );
    expect(lineInFile('x\n', { line: 'y', insertbefore: 'BOF', state: 'present' })).toBe('y\nx\n');
  });

  it('removes every matching line when absent', () => {
    expect(lineInFile('a\n#b\nb\n', { regexp: '^b', state: 'absent' })).toBe('a\n#b\n');
    expect(lineInFile('a\nb\n', { line: 'a', state: 'absent' })).toBe('b\n');
  });
});

describe('blockinfile', () => {
  const marker = '# {mark} MANAGED';
  it('adds a marked block once and replaces its body later', () => {
    const first = blockInFile('keep\n', { block: 'x=1\ny=2', marker, state: 'present' });
    expect(first).toBe('keep\n# BEGIN MANAGED\nx=1\ny=2\n# END MANAGED\n');
    expect(blockInFile(first, { block: 'x=1\ny=2', marker, state: 'present' })).toBe(first);
    expect(blockInFile(first, { block: 'z=3', marker, state: 'present' })).toBe(
      'keep\n# BEGIN MANAGED\nz=3\n# END MANAGED\n',
    );
    expect(blockInFile(first, { block: '', marker, state: 'absent' })).toBe('keep\n');
  });
});

describe('properties (the seeds server configuration files)', () => {
  const serverConfig =
    '# PowerFolder server\nhostname=node1\n! legacy comment\nnick = node-one\nnodeid=abc123\n\nport=8080\n';

  it('sets and removes keys, keeping comments, blank lines and order', () => {
    const after = editProperties(serverConfig, {
      set: { hostname: 'node2', nick: 'node-two', 'cluster.key': 's3' },
      remove: ['nodeid'],
      separator: '=',
    });
    expect(after).toBe(
      '# PowerFolder server\nhostname=node2\n! legacy comment\nnick = node-two\n\nport=8080\ncluster.key=s3\n',
    );
  });

  it('leaves a key whose value already matches byte for byte', () => {
    expect(
      editProperties(serverConfig, { set: { nick: 'node-one', port: '8080' }, remove: [], separator: '=' }),
    ).toBe(serverConfig);
  });

  it("keeps a changed line's own layout, as a PHP-FPM pool writes it", () => {
    const pool = '[www]\npm = dynamic\npm.max_children = 50\n';
    expect(editProperties(pool, { set: { 'pm.max_children': '8' }, remove: [], separator: '=' })).toBe(
      '[www]\npm = dynamic\npm.max_children = 8\n',
    );
  });

  it('drops later duplicates that would override the value set', () => {
    expect(editProperties('a=1\nb=2\na=3\n', { set: { a: '9' }, remove: [], separator: '=' })).toBe(
      'a=9\nb=2\n',
    );
  });

  it('parses values the way Java does (last one wins)', () => {
    expect(parseProperties('a = 1\na=2\n# c=3\n').get('a')).toBe('2');
  });
});

describe('ini (my.cnf)', () => {
  const cnf =
    '[client]\nport = 3306\n\n[mysqld]\nbind-address = 127.0.0.1\nskip-name-resolve\n\n[mysqldump]\nquick\n';

  it('sets options inside their section, treating - and _ alike', () => {
    const after = editIni(cnf, {
      mysqld: { bind_address: '0.0.0.0', 'server-id': '1', log_bin: 'mysql-bin' },
    });
    expect(after).toBe(
      '[client]\nport = 3306\n\n[mysqld]\nbind_address = 0.0.0.0\nskip-name-resolve\nserver-id = 1\nlog_bin = mysql-bin\n\n[mysqldump]\nquick\n',
    );
    expect(
      editIni(after, { mysqld: { bind_address: '0.0.0.0', 'server-id': '1', log_bin: 'mysql-bin' } }),
    ).toBe(after);
  });

  it('adds a missing section, writes bare options, and removes with null', () => {
    const after = editIni(cnf, {
      galera: { wsrep_on: 'ON' },
      mysqld: { 'skip-name-resolve': null, 'log-slave-updates': '' },
    });
    expect(after).toContain('[mysqld]\nbind-address = 127.0.0.1\nlog-slave-updates\n');
    expect(after).not.toContain('skip-name-resolve');
    expect(after.endsWith('quick\n\n[galera]\nwsrep_on = ON\n')).toBe(true);
  });
});
