import { Command } from 'commander';
import { connectClient, temporalSettings } from '../connection';
import { loadSpec } from '../spec';
import { buildNodeOperation, type NodeOperation } from '../nodes';
import { buildLicenseOperation } from '../license';
import {
  createSchedule,
  describeSchedule,
  listSchedules,
  renderSchedule,
  renderSchedules,
} from '../schedule';
import {
  acknowledged,
  BadInput,
  csv,
  specCommand,
  withConnectionOptions,
  type ConnectionFlags,
  type NodeFlags,
} from './options';
import { nodeOptions } from './nodes';

// `schedule ...`: recurring operations as Temporal Schedules.

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('recurring operations as Temporal Schedules');

  specCommand(
    schedule
      .command('create <operation>')
      .description('schedule an operation (rolling-maintenance, config-drift, license-status) from a spec')
      .requiredOption('--cron <expr>', 'e.g. "0 3 * * SUN"')
      .option('--timezone <tz>', 'IANA time zone of the cron line', 'UTC')
      .option('--catchup-window <duration>', 'start a missed run this late at most', '1h')
      .option('--note <text>', 'why this schedule exists')
      .option('--id <scheduleId>', 'default: <operation>/<cluster>')
      .option('--play <playbook>', 'rolling-maintenance: the action')
      .option('--only <nodes>', 'rolling-maintenance: only these nodes')
      .option(
        '--fix',
        'config-drift: converge each run (the sync of seed 004: the reference is the primary)',
      ),
  ).action(
    async (
      operation: string,
      flags: NodeFlags & {
        cron: string;
        timezone: string;
        catchupWindow: string;
        note?: string;
        id?: string;
      },
    ) => {
      if (!['rolling-maintenance', 'config-drift', 'license-status'].includes(operation))
        throw new BadInput(
          `schedule create: "${operation}" cannot be scheduled (rolling-maintenance, config-drift, license-status)`,
        );
      if (operation !== 'config-drift' && flags.fix)
        throw new BadInput(`schedule create: --fix is for config-drift, not ${operation}`);
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: flags.timezone });
      } catch {
        throw new BadInput(`--timezone: "${flags.timezone}" is not an IANA time zone like Europe/Berlin`);
      }
      if (flags.cron.trim().split(/\s+/).length !== 5)
        throw new BadInput(`--cron: "${flags.cron}" is not five cron fields`);
      const loaded = loadSpec(flags.file, { inventory: flags.inventory });
      const op =
        operation === 'license-status'
          ? buildLicenseOperation(loaded, operation, { only: csv(flags.only) })
          : buildNodeOperation(loaded, operation as NodeOperation, nodeOptions(flags));
      const settings = temporalSettings(flags);
      const client = await connectClient(settings);
      const id = await createSchedule(client, settings, op, flags);
      const d = await describeSchedule(client, id);
      console.log(flags.json ? JSON.stringify(d, null, 2) : renderSchedule(d));
    },
  );

  withConnectionOptions(schedule.command('list').description('every schedule').option('--json')).action(
    async (flags: ConnectionFlags & { json?: boolean }) => {
      const list = await listSchedules(await connectClient(temporalSettings(flags)));
      console.log(flags.json ? JSON.stringify(list, null, 2) : renderSchedules(list));
    },
  );

  withConnectionOptions(
    schedule.command('describe <scheduleId>').description('state, next run, recent runs').option('--json'),
  ).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
    const d = await describeSchedule(await connectClient(temporalSettings(flags)), id);
    console.log(flags.json ? JSON.stringify(d, null, 2) : renderSchedule(d));
  });

  for (const [name, what] of [
    ['pause', 'stop starting runs (with a note saying why)'],
    ['unpause', 'start runs again'],
  ] as const) {
    withConnectionOptions(
      schedule
        .command(`${name} <scheduleId>`)
        .description(what)
        .option('--note <text>')
        .option('--json', 'print JSON'),
    ).action(async (id: string, flags: ConnectionFlags & { note?: string; json?: boolean }) => {
      const handle = (await connectClient(temporalSettings(flags))).schedule.getHandle(id);
      await (name === 'pause' ? handle.pause(flags.note) : handle.unpause(flags.note));
      acknowledged(flags, { scheduleId: id, done: name }, `schedule ${id}: ${name}d`);
    });
  }

  withConnectionOptions(
    schedule
      .command('trigger <scheduleId>')
      .description('run it now (overlap policy still applies)')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
    await (await connectClient(temporalSettings(flags))).schedule.getHandle(id).trigger();
    acknowledged(flags, { scheduleId: id, done: 'trigger' }, `schedule ${id}: triggered`);
  });

  withConnectionOptions(
    schedule
      .command('delete <scheduleId>')
      .description('delete the schedule (running workflows go on)')
      .option('--json', 'print JSON'),
  ).action(async (id: string, flags: ConnectionFlags & { json?: boolean }) => {
    await (await connectClient(temporalSettings(flags))).schedule.getHandle(id).delete();
    acknowledged(flags, { scheduleId: id, done: 'delete' }, `schedule ${id}: deleted`);
  });
}
