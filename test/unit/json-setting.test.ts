import { jsonWithSetting } from '../../activities/db/json-setting';

// Pydio's bootstrap.json as its installer leaves it (seed 003), trimmed.
const BOOTSTRAP = `{
    "db": {
        "driver": "mysqli",
        "host": "10.77.0.31",
        "database": "pydio"
    },
    "title": "Pydio"
}
`;

describe("an application's JSON settings file", () => {
  it('gets the new database host at its dotted path, keeping indentation and the rest', () => {
    expect(jsonWithSetting(BOOTSTRAP, 'db.host', '10.77.0.32')).toBe(
      BOOTSTRAP.replace('10.77.0.31', '10.77.0.32'),
    );
  });

  it('is unchanged when the value is already there', () => {
    expect(jsonWithSetting(BOOTSTRAP, 'db.host', '10.77.0.31')).toBe(BOOTSTRAP);
  });

  it('creates the objects on the way to a new key', () => {
    expect(JSON.parse(jsonWithSetting('{}', 'db.slave.host', 'x'))).toEqual({ db: { slave: { host: 'x' } } });
  });

  it('refuses a path through a value that is not an object', () => {
    expect(() => jsonWithSetting(BOOTSTRAP, 'title.host', 'x')).toThrow('title is not an object');
    expect(() => jsonWithSetting('[1]', 'db.host', 'x')).toThrow('not a JSON object');
  });
});
