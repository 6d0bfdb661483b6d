import { parseAnsibleYaml } from '../../client/yaml';

describe('YAML as Ansible reads it (1.1, PyYAML booleans)', () => {
  it.each(['yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE'])('%s is true', (word) => {
    expect(parseAnsibleYaml(`become: ${word}`)).toEqual({ become: true });
  });

  it.each(['no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE'])('%s is false', (word) => {
    expect(parseAnsibleYaml(`become: ${word}`)).toEqual({ become: false });
  });

  it('an unquoted leading-zero number is octal, a quoted one stays a string', () => {
    expect(parseAnsibleYaml('a: 0644\nb: 0755\nc: "0644"\nd: 644')).toEqual({
      a: 0o644,
      b: 0o755,
      c: '0644',
      d: 644,
    });
  });

  it('keeps y and n as strings, as PyYAML does', () => {
    expect(parseAnsibleYaml('y: 1\nn: 2\nanswer: y')).toEqual({ y: 1, n: 2, answer: 'y' });
  });

  it('reads 0o644 as a string, since YAML 1.1 has no 0o prefix', () => {
    expect(parseAnsibleYaml('mode: 0o644')).toEqual({ mode: '0o644' });
  });

  it('refuses a list or mapping used as a key instead of turning it into text', () => {
    expect(() => parseAnsibleYaml('[web, db]: 1')).toThrow(/keys must be strings/);
  });
});
