import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../lab/paths';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string | number>;
  command?: string[];
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { services } = compose;

describe('docker-compose.yml (no Docker engine here, so its shape is checked)', () => {
  it('runs Temporal on PostgreSQL with a persistent volume', () => {
    expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(Object.keys(compose.volumes)).toContain('temporal-db');
  });

  it('publishes the frontend on 7233 and the Web UI on 8233, on loopback only', () => {
    expect(services.temporal.ports).toEqual(['127.0.0.1:7233:7233']);
    expect(services['temporal-ui'].ports).toEqual(['127.0.0.1:8233:8080']);
  });

  it('registers the four search attributes clusterflow sets', () => {
    const script = services['temporal-setup'].command!.join(' ');
    for (const sa of [
      'ClusterName=Keyword',
      'Operation=Keyword',
      'TargetHosts=KeywordList',
      'Phase=Keyword',
    ]) {
      expect(script).toContain(sa);
    }
  });

  it('builds the worker from the Dockerfile and starts it after the setup', () => {
    const worker = services.worker;
    expect(worker.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(existsSync(path.join(REPO_ROOT, worker.build!.dockerfile))).toBe(true);
    expect(worker.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(worker.depends_on).toMatchObject({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
    expect(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8')).toMatch(
      /CMD \["node", "bin\/clusterflow\.js", "worker"\]/,
    );
  });
});
