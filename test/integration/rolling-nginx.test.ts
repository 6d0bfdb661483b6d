import { rollingSuite } from './rolling-suite';

describe('rolling maintenance behind nginx', () => rollingSuite('nginx', 'lb2'));
