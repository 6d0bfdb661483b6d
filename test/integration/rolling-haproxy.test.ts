import { rollingSuite } from './rolling-suite';

describe('rolling maintenance behind haproxy', () => rollingSuite('haproxy', 'lb1'));
