import { Connection } from '@temporalio/client';
import { devServerStatus } from '../../lab/devserver';

describe('the Temporal dev server', () => {
  it('answers on loopback with the Web UI port and our search attributes registered', async () => {
    const s = await devServerStatus();
    expect(s).toMatchObject({ running: true, address: '127.0.0.1:7233', uiUrl: 'http://127.0.0.1:8233' });

    const connection = await Connection.connect({ address: s.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: 'default',
      });
      // Enum values from the API: 2 = Keyword, 7 = KeywordList.
      expect(customAttributes).toMatchObject({ ClusterName: 2, Operation: 2, TargetHosts: 7, Phase: 2 });
    } finally {
      await connection.close();
    }

    const ui = await fetch(s.uiUrl);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/<html/i);
  });
});
