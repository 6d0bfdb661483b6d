import { innermostCause } from '../common/errors';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { BadConnectionSettings, TemporalUnreachable, type TemporalSettings } from './connection';
import { InventoryError } from './inventory';
import { PlaybookError } from './play';
import { ExtraVarsError } from './playbook-flags';
import { SpecError } from './spec';
import { VaultOpenError } from './vault';
import { registerDbCommands } from './commands/db';
import { registerHostCommands } from './commands/hosts';
import { registerNodeCommands } from './commands/nodes';
import { registerObserveCommands } from './commands/observe';
import { registerScheduleCommands } from './commands/schedule';
import { registerSpecCommands } from './commands/operations';
import { registerWorkerCommands } from './commands/worker';
import { BadInput, ExitCode } from './commands/options';

// The command line, assembled: each group of commands lives in client/commands/.

export { ExitCode };

const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

const program = new Command('clusterflow')
  .description('Durable, agentless operations for clustered servers, run as Temporal workflows')
  .version(version, '-V, --version', 'print the clusterflow version')
  // Before any subcommand exists: commander copies this into each one as it is added, so a usage
  // error anywhere reaches main() and exits 2 instead of commander's own exit 1.
  .exitOverride()
  .addHelpText(
    'after',
    `
Flags: \`play\` takes ansible-playbook's (-i -l -t --skip-tags -C -D -f/--forks -e --vault-id
--vault-password-file, -v/-vv/-vvv, --start-at-task, and --syntax-check,
--list-hosts, --list-tasks, --list-tags, which need no server); every
command that reads a cluster spec takes it with -f/--file.
Exit codes: 0 success, 1 the operation failed on some host, 2 bad input or usage, 3 Temporal unreachable.`,
  );

registerWorkerCommands(program);
registerHostCommands(program);
registerDbCommands(program);
registerNodeCommands(program);
registerSpecCommands(program);
registerObserveCommands(program);
registerScheduleCommands(program);

export async function main(argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message, the help or the version already.
      process.exitCode = err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    } else if (
      err instanceof ExtraVarsError ||
      err instanceof InventoryError ||
      err instanceof BadInput ||
      err instanceof PlaybookError ||
      err instanceof SpecError ||
      err instanceof BadConnectionSettings ||
      err instanceof VaultOpenError
    ) {
      console.error(`clusterflow: bad input: ${err.message}`);
      process.exitCode = ExitCode.badInput;
    } else if (err instanceof TemporalUnreachable) {
      console.error(`clusterflow: ${err.message}`);
      process.exitCode = ExitCode.temporalUnreachable;
    } else if (err instanceof WorkflowFailedError) {
      // The operator wants the reason, which Temporal keeps in the cause chain.
      console.error(`clusterflow: operation failed: ${innermostCause(err).message}`);
      process.exitCode = ExitCode.operationFailed;
    } else {
      console.error(`clusterflow: ${(err as Error).message}`);
      process.exitCode = ExitCode.operationFailed;
    }
  }
}

export type { TemporalSettings };

if (require.main === module) void main();
