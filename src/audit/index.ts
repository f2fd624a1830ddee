// The audit experiment (runAudit) and its configuration; the report is written by src/report.
export { runAudit, type AuditProgress } from './run.js';
export { auditConfigSchema, parseAuditConfig, type AuditConfig, type AuditConfigInput } from './config.js';
