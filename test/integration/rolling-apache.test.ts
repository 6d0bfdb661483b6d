import { rollingSuite } from './rolling-suite';

describe('rolling maintenance behind apache', () => rollingSuite('apache', 'lb3'));
