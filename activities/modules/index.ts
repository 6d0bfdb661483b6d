import { ModuleArgs, type ModuleName } from '../../common/modules';
import { blockinfile, copy, file, ini, lineinfile, properties, template } from './files';
import { command, shell } from './command';
import type { ModuleRunner } from './context';
import { group, user } from './accounts';
import { assert, debug, fail, pause, setFact } from './language';
import { stat } from './stat';
import { mount } from './mount';
import { packageModule } from './package';
import { service } from './service';
import { waitFor } from './wait-for';

/** Every module by the name a task uses; arguments are validated with `ModuleArgs[name]` first. */
export const MODULES: { [K in ModuleName]: ModuleRunner<never> } = {
  command,
  shell,
  file,
  copy,
  template,
  lineinfile,
  blockinfile,
  properties,
  ini,
  service,
  package: packageModule,
  user,
  group,
  mount,
  wait_for: waitFor,
  debug,
  assert,
  fail,
  set_fact: setFact,
  stat,
  pause,
};

export { ModuleArgs };
export type { ModuleContext } from './context';
