import { Command } from 'commander';
import { FactsInputSchema, type FactsResult } from '../../common/facts';
import { startOperation } from '../connection';
import { renderFactsTable, startFacts } from '../facts';
import { clusterNameOf, loadInventory, resolveTargets } from '../inventory';
import { loadPlaybook } from '../play';
import { parseExtraVars, repeatable, skipTagged, tagList } from '../playbook-flags';
import { loadSpec } from '../spec';
import { useVaultSecrets, vaultSecretsFromFlags } from '../vault';
import { renderListing } from '../play-listing';
import { renderRecap, renderTasks } from '../play-output';
import { startAtTask } from '../start-at-task';
import { targetsOf } from '../play-verbose';
import type { PlayResult } from '../../common/play';
import { BadInput, withConnectionOptions, type ConnectionFlags } from './options';
import { startAndReport } from './report';

// `facts` and `play`: work on inventory hosts, Ansible's way.

export function registerHostCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('facts')
      .description(
        'gather facts (OS, kernel, CPUs, memory, addresses, installed services) from inventory hosts',
      )
      .option('-i, --inventory <file>', 'Ansible YAML or INI inventory')
      .option('-f, --file <spec.yml>', 'cluster spec: its inventory and cluster name')
      .option('-l, --limit <pattern>', 'Ansible host pattern, e.g. "db:&eu" or "all:!app3"')
      .option('--forks <n>', 'hosts gathered at once', '20')
      .option('--json', 'print the result as JSON')
      .option('--no-wait', 'print the workflow ID and return'),
  ).action(
    async (
      flags: ConnectionFlags & {
        inventory?: string;
        file?: string;
        limit?: string;
        forks: string;
        json?: boolean;
        wait: boolean;
      },
    ) => {
      if (!flags.inventory && !flags.file)
        throw new BadInput('give an inventory (-i) or a cluster spec (-f)');
      const spec = flags.file ? loadSpec(flags.file, { inventory: flags.inventory }) : undefined;
      const inventory = spec?.inventory ?? loadInventory(flags.inventory as string);
      const parsed = FactsInputSchema.safeParse({
        cluster: spec?.spec.cluster ?? clusterNameOf(inventory),
        hosts: resolveTargets(inventory, flags.limit),
        forks: Number(flags.forks),
      });
      if (!parsed.success) {
        throw new BadInput(
          parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'),
        );
      }
      await startAndReport<FactsResult>(
        flags,
        (client, settings) => startFacts(client, settings, parsed.data),
        {
          render: renderFactsTable,
          failed: (result) => result.summary.ok !== result.hosts.length,
          linkTo: 'stdout',
        },
      );
    },
  );

  withConnectionOptions(
    program
      .command('play <playbook>')
      .description(
        "run an Ansible-style playbook (modules, serial batches, handlers) as a durable workflow; the flags are ansible-playbook's, so here -f is --forks, not a spec file",
      )
      .requiredOption('-i, --inventory <file>', 'Ansible YAML or INI inventory')
      .option('-l, --limit <pattern>', 'further limit the hosts of every play')
      .option('-C, --check', 'report what would change; change nothing')
      .option('-D, --diff', 'show before/after of changed files')
      .option('-t, --tags <tags>', 'only tasks with these tags (comma-separated, repeatable)', repeatable)
      .option(
        '--skip-tags <tags>',
        'leave out tasks with these tags (comma-separated, repeatable)',
        repeatable,
      )
      .option(
        '-e, --extra-vars <vars>',
        'key=value pairs, a JSON/YAML mapping, or @file; above every other variable (repeatable, later wins)',
        repeatable,
      )
      .option('-f, --forks <n>', 'hosts worked on at once', '50')
      .option(
        '--vault-password-file <file>',
        'ansible-vault password: a file, env:NAME or file:/path; the worker reads the same reference (repeatable)',
        repeatable,
      )
      .option(
        '--vault-id <[label@]file>',
        'a labelled vault password, as ansible-playbook takes it (repeatable)',
        repeatable,
      )
      .option(
        '--syntax-check',
        'check the playbook (every key, task and argument) and exit; no server needed',
      )
      .option('--list-hosts', 'list the hosts each play would run on, and exit')
      .option('--list-tasks', 'list the tasks each play would run, and exit')
      .option('--list-tags', 'list the tags of each play, and exit')
      .option(
        '--start-at-task <name>',
        'start at the first task of this name (or `role : name`; fnmatch globs); also for --list-tasks',
      )
      .option(
        '-v, --verbose',
        'each result dict (-v), and the task path (-vv), and the connection (-vvv)',
        (_: string, level: number) => level + 1,
        0,
      )
      .option('--json', 'print the result as JSON'),
  ).action(
    async (
      playbook: string,
      flags: ConnectionFlags & {
        inventory: string;
        limit?: string;
        check?: boolean;
        diff?: boolean;
        tags?: string[];
        skipTags?: string[];
        extraVars?: string[];
        vaultPasswordFile?: string[];
        vaultId?: string[];
        forks: string;
        json?: boolean;
        syntaxCheck?: boolean;
        listHosts?: boolean;
        listTasks?: boolean;
        listTags?: boolean;
        startAtTask?: string;
        verbose: number;
      },
    ) => {
      const forks = Number(flags.forks);
      if (!Number.isInteger(forks) || forks < 1)
        throw new BadInput(`--forks: "${flags.forks}" is not a whole number of hosts, 1 or more`);
      // Before anything is read: group_vars, vars files and -e @file may be encrypted.
      useVaultSecrets(vaultSecretsFromFlags(flags));
      const extraVars = parseExtraVars(flags.extraVars ?? []);
      const inventory = loadInventory(flags.inventory);
      const loaded = loadPlaybook(playbook, inventory, {
        limit: flags.limit,
        check: Boolean(flags.check),
        diff: Boolean(flags.diff),
        tags: tagList(flags.tags ?? []),
        forks,
        cluster: clusterNameOf(inventory),
        extraVars,
      });
      const input = startAtTask(skipTagged(loaded, tagList(flags.skipTags ?? [])), flags.startAtTask);
      // Like ansible-playbook: these read the playbook and stop; nothing connects anywhere.
      const listing = flags.listHosts
        ? 'hosts'
        : flags.listTasks
          ? 'tasks'
          : flags.listTags
            ? 'tags'
            : undefined;
      if (listing) return console.log(renderListing(input, listing));
      if (flags.syntaxCheck) return console.log(`playbook: ${input.source}`);
      const hosts = [...new Set(input.plays.flatMap((p) => p.hosts.map((h) => h.target.name)))];
      await startAndReport<PlayResult>(
        flags,
        (client, settings) =>
          startOperation(client, settings, {
            operation: 'play',
            workflowType: 'play',
            cluster: input.cluster,
            hosts,
            input,
            summary: `play ${input.source}${input.check ? ' (check mode)' : ''}: ${hosts.length} host(s)`,
          }),
        {
          render: (result) =>
            `${renderTasks(result.tasks, Boolean(flags.diff), { level: flags.verbose, targets: targetsOf(input) })}\n${renderRecap(result)}`,
          failed: (result) =>
            Object.values(result.recap).some((r) => r.failed || r.unreachable) || Boolean(result.aborted),
          linkTo: 'stdout',
        },
      );
    },
  );
}
