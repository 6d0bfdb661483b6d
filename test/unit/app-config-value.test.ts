import { appConfigValue } from '../../activities/db/app-config';

const db2 = { name: 'db2', address: '10.77.0.32' };

describe("the application's database setting after a switchover", () => {
  it('is a JDBC multi-host URL with the new primary first (seed 000)', () => {
    expect(
      appConfigValue('jdbc:mysql://{{ failover_hosts }}/powerfolder?failOverReadOnly=false', db2, [
        '10.77.0.32:3306',
        '10.77.0.31:3306',
      ]),
    ).toBe('jdbc:mysql://10.77.0.32:3306,10.77.0.31:3306/powerfolder?failOverReadOnly=false');
  });

  it('names the primary by inventory name or address', () => {
    expect(appConfigValue('{{primary}} at {{ primary_address }}', db2)).toBe('db2 at 10.77.0.32');
  });

  it("lists only the primary's address where the workflow gave no failover hosts (older histories)", () => {
    expect(appConfigValue('jdbc:mysql://{{ failover_hosts }}/x', db2)).toBe('jdbc:mysql://10.77.0.32/x');
  });
});
