import { ModuleArgs, type ModuleName } from '../../common/modules';
import { blockinfile, copy, file, ini, lineinfile, properties, template } from './files';
import { command, shell } from './command';
import type { ModuleRunner } from './context';
import { group, user } from './accounts';
import { assert, debug, fail, pause, setFact, meta, ping } from './language';
import { stat } from './stat';
import { mount } from './mount';
import { packageModule } from './package';
import { apt } from './apt';
import { systemd } from './systemd';
import { unarchive } from './unarchive';
import { getUrl } from './get-url';
import { uri } from './uri';
import { waitForConnection } from './wait-for-connection';
import { reboot } from './reboot';
import { service } from './service';
import { waitFor } from './wait-for';
import { replace } from './replace';
import { getent } from './getent';
import { slurp } from './slurp';
import { find } from './find';
import { tempfile } from './tempfile';
import { sysctl } from './sysctl';
import { cron } from './cron';
import { mysqlDb, mysqlQuery, mysqlUser } from './mysql';

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
  apt,
  systemd,
  unarchive,
  get_url: getUrl,
  uri,
  wait_for_connection: waitForConnection,
  reboot,
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
  meta,
  ping,
  replace,
  getent,
  slurp,
  find,
  tempfile,
  sysctl,
  cron,
  mysql_db: mysqlDb,
  mysql_user: mysqlUser,
  mysql_query: mysqlQuery,
};

export { ModuleArgs };
export type { ModuleContext } from './context';
