// The community.mysql modules, over a session the host itself opens (see session.ts).
export { mysqlDb } from './db';
export { mysqlQuery } from './query';
export { mysqlReplication } from './replication';
export { mysqlUser } from './user';
