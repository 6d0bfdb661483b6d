import { parseAptSources, pickMirror } from '../../lab/mirror';

describe('apt mirror discovery', () => {
  it('reads deb822 sources and picks the release suite, not security', () => {
    const text = [
      'Types: deb',
      'URIs: http://mirror.example.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://mirror.example.org/debian-security',
      'Suites: bookworm-security',
      '',
      'Types: deb-src',
      'URIs: http://src.example.org/debian',
      'Suites: bookworm',
    ].join('\n');
    const sources = parseAptSources(text, true);
    expect(sources).toHaveLength(2);
    expect(pickMirror(sources, 'bookworm')).toBe('http://mirror.example.org/debian');
  });

  it('skips disabled deb822 paragraphs', () => {
    const text = 'Types: deb\nEnabled: no\nURIs: http://off.example.org/debian\nSuites: bookworm\n';
    expect(pickMirror(parseAptSources(text, true), 'bookworm')).toBeUndefined();
  });

  it('reads one-line sources.list entries with options and comments', () => {
    const text = [
      '# deb http://old.example.org/debian bookworm main',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian bookworm main',
      'deb-src http://mirror.example.org/debian bookworm main',
    ].join('\n');
    expect(pickMirror(parseAptSources(text, false), 'bookworm')).toBe('http://mirror.example.org/debian');
  });
});
