import { ModuleArgs, type ModuleName } from '../../common/modules';
import { blockinfile, copy, file, ini, lineinfile, properties, template } from './files';
import { command, shell, raw } from './command';
import { script } from './script';
import type { ModuleRunner } from './context';
import { group, user } from './accounts';
import { assert, debug, fail, pause, setFact, meta, ping } from './language';
import { stat } from './stat';
import { mount } from './mount';
import { packageModule } from './package';
import { apt } from './apt';
import { aptKey } from './apt-key';
import { aptRepository } from './apt-repository';
import { authorizedKey } from './authorized-key';
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
import { setup } from './setup';
import { slurp } from './slurp';
import { find } from './find';
import { tempfile } from './tempfile';
import { sysctl } from './sysctl';
import { cron } from './cron';
import { mysqlDb, mysqlQuery, mysqlReplication, mysqlUser } from './mysql';
import { glusterVolume } from './gluster-volume';
import { glusterPeer } from './gluster-peer';

/** Every module by the name a task uses; arguments are validated with `ModuleArgs[name]` first. */
export const MODULES: { [K in ModuleName]: ModuleRunner<never> } = {
  command,
  shell,
  raw,
  script,
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
  apt_repository: aptRepository,
  apt_key: aptKey,
  authorized_key: authorizedKey,
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
  setup,
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
  mysql_replication: mysqlReplication,
  gluster_volume: glusterVolume,
  gluster_peer: glusterPeer,
};

export { ModuleArgs };
export type { ModuleContext } from './context';
