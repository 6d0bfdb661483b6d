#!/usr/bin/env node
// Runs the TypeScript sources directly: no build step between editing and running.
require('tsx/cjs');
require('../lab/cli.ts');
