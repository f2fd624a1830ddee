#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { commands } from './registry.js';
import { reportError } from './errors.js';

const program = new Command('revertlm')
  .description('Measure and attack private-text leakage in split learning of LLMs')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  process.exit(reportError(e));
}
