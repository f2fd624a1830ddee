// revertlm's public API: what `import … from 'revertlm'` gives. The CLI uses only this.
//   experiments — attackSweep, tradeoff, attack, audit (and the context they are built from)
//   attacks and defenses — their typed registries and types
//   leakage — the estimators; models — loading, splitting, LoRA, generation
//   the split runtime (server, device, capture), pretraining, text loading, metrics, errors
export * from './experiments/index.js';
export { runAudit as audit, runAudit, auditConfigSchema, parseAuditConfig, type AuditConfig, type AuditConfigInput, type AuditProgress } from './audit/index.js';
export { writeReport, renderReport, type AuditResults } from './report/index.js';
export * from './attacks/index.js';
export * from './defenses/index.js';
export * from './leakage/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './metrics/index.js';
export * from './split/index.js';
export * from './split/server/index.js';
export * from './split/device/index.js';
export * from './pretrain/index.js';
export { RevertlmError, UsageError } from './util/errors.js';
export { projectRoot } from './util/root.js';
export { checkOutputPath, OutputPathError, type OutputPathOptions } from './util/output_path.js';
