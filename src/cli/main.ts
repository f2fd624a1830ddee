#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { commands } from './registry.js';
import { reportError } from './errors.js';
import { VERSION } from '../version.js';

const program = new Command('revertlm')
  .description('Measure and attack private-text leakage in split learning of LLMs')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  // Commander's own usage errors read like ours: `revertlm: error: …`.
  .configureOutput({ outputError: (str, write) => write(`revertlm: ${str}`) });

for (const register of commands) register(program);

// Whether the command runs with --json: known once its options are parsed; before that (a usage error
// commander reports) the raw arguments say.
let json = process.argv.slice(2).includes('--json');
program.hook('preAction', (_program, action) => {
  json = action.opts().json === true;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; a usage error commander found is a usage error like ours (exit 2).
    if (e.exitCode === 0) process.exit(0);
    if (json) process.stdout.write(`${JSON.stringify({ error: e.message.replace(/^error: /, ''), hint: 'run with --help for usage' })}\n`);
    process.exit(2);
  }
  process.exit(reportError(e, { json }));
}
