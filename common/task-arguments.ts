import { ModuleArgs, type ModuleName } from './modules';
import { formatPath, parseStrict } from './parse-strict';
import { renderArgs, TemplateError, type Vars } from './templates';

/**
 * A task's arguments as its module takes them: rendered with one host's vars, then checked with
 * the module's strict schema. The client checks every task on every host this way before a play
 * starts and the activity again on the worker, so a bad argument reads the same in both, named by
 * module and field: `file.mode: ...`, `command.argv[2]: ...`, `service.daemon_reload: unknown key`.
 * Arguments that read a lookup only the worker answers (a file, the environment) are `deferred`
 * where there is none, the client's pre-flight: their keys are checked, their values when they run.
 */
export function taskArguments(
  module: ModuleName,
  args: unknown,
  vars: Vars,
):
  | { args: unknown; problems?: undefined; deferred?: undefined }
  | { args?: undefined; problems: string[]; deferred?: undefined }
  | { args?: undefined; problems?: undefined; deferred: true } {
  let rendered: unknown;
  try {
    rendered = renderArgs(args, vars);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    if (err.deferred) {
      const unknown = unknownArguments(module, args);
      return unknown.length ? { problems: unknown } : { deferred: true };
    }
    return { problems: [`${formatPath([module, ...err.path])}: ${err.message}`] };
  }
  const parsed = parseStrict(ModuleArgs[module], rendered, [module]);
  return parsed.problems ? { problems: parsed.problems } : { args: parsed.data };
}

/**
 * The arguments a module does not take, from the task as written: what can be checked of a task
 * whose values only the run gives (a loop item, a registered result).
 */
export function unknownArguments(module: ModuleName, args: unknown): string[] {
  const parsed = parseStrict(ModuleArgs[module], args, [module]);
  return (parsed.problems ?? []).filter((m) => /: unknown key/.test(m));
}
