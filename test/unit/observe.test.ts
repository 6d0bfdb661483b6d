import { listQuery } from '../../client/observe';

describe('list filters', () => {
  it('become a visibility query on the search attributes', () => {
    expect(listQuery({})).toBe('');
    expect(listQuery({ cluster: 'prod-eu', operation: 'rolling-maintenance', running: true })).toBe(
      'ClusterName = "prod-eu" AND Operation = "rolling-maintenance" AND ExecutionStatus = "Running"',
    );
  });

  it('refuses a value that would change the query, naming the flag', () => {
    expect(() => listQuery({ cluster: 'x" OR ClusterName != "' })).toThrow(/^--cluster: /);
    expect(() => listQuery({ operation: 'a b' })).toThrow(/^--operation: /);
  });
});
