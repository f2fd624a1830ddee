// The typed registry of subcommands: each module adds its command to the program.
import type { Command } from 'commander';
import { registerDoctor } from './commands/doctor.js';
import { registerBench } from './commands/bench.js';
import { registerLeakage } from './commands/leakage.js';
import { registerGenerate } from './commands/generate.js';
import { registerPerplexity } from './commands/perplexity.js';
import { registerPretrain } from './commands/pretrain.js';
import { registerAudit } from './commands/audit.js';
import { registerDemo } from './commands/demo.js';
import { registerAttack } from './commands/attack.js';
import { registerAttackSweep } from './commands/attack_sweep.js';
import { registerTradeoff } from './commands/tradeoff.js';
import { registerServe } from './commands/serve.js';
import { registerDevice } from './commands/device.js';
import { registerDeviceKey } from './commands/device_key.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [
  registerDemo,
  registerAudit,
  registerAttack,
  registerAttackSweep,
  registerTradeoff,
  registerDoctor,
  registerBench,
  registerGenerate,
  registerPerplexity,
  registerPretrain,
  registerLeakage,
  registerServe,
  registerDevice,
  registerDeviceKey,
];
