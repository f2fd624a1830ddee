// The typed registry of subcommands: each module adds its command to the program.
import type { Command } from 'commander';
import { registerDoctor } from './commands/doctor.js';
import { registerBench } from './commands/bench.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerDoctor,
  registerBench,
];
