import { Command } from 'commander';
import { loadSpec } from '../spec';
import { NODE_OPERATIONS, type NodeOperation } from '../nodes';
import { buildStorageOperation, STORAGE_OPERATIONS, type StorageOperation } from '../storage';
import { validateSpec } from '../validate';
import { buildClusterSetup } from '../cluster';
import { buildLicenseOperation, LICENSE_OPERATIONS, type LicenseOperation } from '../license';
import { BadInput, csv, ExitCode, specCommand, type NodeFlags } from './options';
import { runOperation } from './report';
import { runNodeOperation } from './nodes';

// `validate`, `run`, storage and license: the rest of what a spec starts.

export function registerSpecCommands(program: Command): void {
  program
    .command('validate')
    .description(
      'check a cluster spec: every error with the path of its field, before anything runs (exit 2)',
    )
    .requiredOption('-f, --file <spec.yml>', 'cluster spec file')
    .option('-i, --inventory <file>', "inventory (overrides the spec's `inventory`)")
    .option('--json', 'print the result as JSON')
    .action((flags: { file: string; inventory?: string; json?: boolean }) => {
      const v = validateSpec(flags.file, { inventory: flags.inventory });
      if (flags.json) console.log(JSON.stringify(v, null, 2));
      else if (v.valid) console.log(`${v.file}: valid (${v.sections.join(', ') || 'no sections'})`);
      else console.error(`${v.file}: ${v.problems.length} problem(s)\n  ${v.problems.join('\n  ')}`);
      if (!v.valid) process.exitCode = ExitCode.badInput;
    });

  specCommand(
    program
      .command('run <operation>')
      .description(
        `start any spec operation (${['cluster-setup', ...Object.keys(NODE_OPERATIONS), ...Object.keys(STORAGE_OPERATIONS), ...Object.keys(LICENSE_OPERATIONS)].join(', ')}); prints its ID and UI link`,
      )
      .option('--wait', 'wait for the result and print it (default: return at once)')
      .option('--node <name>', 'node-join / node-remove: the node')
      .option('--only <nodes>', 'rolling-maintenance / license-*: only these nodes')
      .option('--play <playbook>', 'rolling-maintenance: the action')
      .option('--fix', 'config-drift: converge')
      .option('--force', 'license-activation: activate again where already active'),
  ).action((operation: string, flags: NodeFlags & { wait?: boolean; node?: string; force?: boolean }) => {
    const loaded = loadSpec(flags.file, { inventory: flags.inventory });
    const wait = { ...flags, wait: Boolean(flags.wait) };
    if (operation in NODE_OPERATIONS) return runNodeOperation(operation as NodeOperation, wait, flags.node);
    if (operation in STORAGE_OPERATIONS)
      return runOperation(buildStorageOperation(loaded, operation as StorageOperation), wait);
    if (operation === 'cluster-setup') return runOperation(buildClusterSetup(loaded), wait);
    if (operation in LICENSE_OPERATIONS)
      return runOperation(
        buildLicenseOperation(loaded, operation as LicenseOperation, {
          only: csv(flags.only),
          force: flags.force,
        }),
        wait,
      );
    throw new BadInput(`run: unknown operation "${operation}"`);
  });

  const storageCmd = program
    .command('storage')
    .description('shared storage: NFS exports or a GlusterFS volume');

  specCommand(
    storageCmd
      .command('export')
      .description('service user with fixed ids, the export or volume, client mounts, the cross-node test'),
  ).action((flags: NodeFlags) =>
    runOperation(
      buildStorageOperation(loadSpec(flags.file, { inventory: flags.inventory }), 'storage-export'),
      flags,
    ),
  );

  specCommand(
    storageCmd
      .command('expand')
      .description('GlusterFS: servers added to the spec join the pool and the volume; rebalance and heal'),
  ).action((flags: NodeFlags) =>
    runOperation(
      buildStorageOperation(loadSpec(flags.file, { inventory: flags.inventory }), 'storage-expand'),
      flags,
    ),
  );

  const licenseCmd = program.command('license').description('per-node license activation');

  for (const [name, operation, what] of [
    [
      'activate',
      'license-activation',
      'check, activate and verify each node (already active nodes are skipped)',
    ],
    ['deactivate', 'license-deactivate', "free each node's seat"],
    ['status', 'license-status', 'active or not, expiry, a warning when it is near (exit 1 then)'],
  ] as const) {
    const cmd = specCommand(licenseCmd.command(name).description(what)).option(
      '--only <nodes>',
      'only these nodes (comma-separated)',
    );
    if (name === 'activate') cmd.option('--force', 'activate again even where already active');
    cmd.action((flags: NodeFlags & { force?: boolean }) =>
      runOperation(
        buildLicenseOperation(loadSpec(flags.file, { inventory: flags.inventory }), operation, {
          only: csv(flags.only),
          force: flags.force,
        }),
        flags,
      ),
    );
  }
}
