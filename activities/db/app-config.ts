import type { ResolvedAppConfigHook } from '../../common/db';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../common/errors';
import type { HostTarget } from '../../common/hosts';
import { Remote } from '../remote';
import { jsonWithSetting } from './json-setting';
import { module, type DbContext } from './context';

/** The hook's value with the primary filled in; without failover hosts (older histories) only the primary's address. */
export function appConfigValue(
  template: string,
  primary: { name: string; address: string },
  failoverHosts: string[] = [primary.address],
): string {
  return template
    .replace(/\{\{\s*failover_hosts\s*\}\}/g, failoverHosts.join(','))
    .replace(/\{\{\s*primary_address\s*\}\}/g, primary.address)
    .replace(/\{\{\s*primary\s*\}\}/g, primary.name);
}

/** Application nodes told where the primary is. */
export function appConfigActivities({ pool, hooks }: DbContext) {
  /** A JSON settings file: read, the value set at the key's path, written back only if it differs. */
  const setJson = async (hook: ResolvedAppConfigHook, host: HostTarget, value: string) => {
    const remote = new Remote(pool, host, hooks());
    const file = await remote.stat(hook.path, true);
    if (!file.content)
      throw ApplicationFailure.nonRetryable(
        `${host.name}: ${hook.path} does not exist`,
        FailureTypes.CommandFailed,
      );
    const before = file.content.toString('utf8');
    let after: string;
    try {
      after = jsonWithSetting(before, hook.key, value);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(
        `${host.name}: ${hook.path}: ${(err as Error).message}`,
        FailureTypes.CommandFailed,
      );
    }
    if (after === before) return { changed: false };
    await remote.writeFile(hook.path, after, { owner: file.owner, group: file.group, mode: file.mode });
    return { changed: true };
  };
  return {
    /** Points app nodes at the new primary in their config file; restarts their service if asked. */
    async dbUpdateAppConfig(input: {
      hook: ResolvedAppConfigHook;
      host: HostTarget;
      primary: { name: string; address: string };
      /** address:port of the primary, then of every other member; absent in older histories. */
      failoverHosts?: string[];
    }): Promise<{ changed: boolean }> {
      const { hook } = input;
      const value = appConfigValue(hook.value, input.primary, input.failoverHosts);
      const result =
        hook.format === 'json'
          ? await setJson(hook, input.host, value)
          : hook.format === 'properties'
            ? await module(
                pool,
                input.host,
                'properties',
                { path: hook.path, set: { [hook.key]: value } },
                hooks(),
              )
            : await module(
                pool,
                input.host,
                'ini',
                {
                  path: hook.path,
                  settings: { [hook.section ?? 'database']: { [hook.key]: value } },
                },
                hooks(),
              );
      if (result.changed && hook.restart) {
        await module(pool, input.host, 'service', { name: hook.restart, state: 'restarted' }, hooks());
      }
      return { changed: result.changed };
    },
  };
}
