// The split-learning server runtime (`revertlm serve`), and the pieces the device runtime shares
// with it (adapters, checkpoints, fingerprint, token).
export * from './adapters.js';
export * from './train_state.js';
export * from './snapshots.js';
export * from './fingerprint.js';
export * from './token.js';
export * from './rate_limit.js';
export * from './connection.js';
export * from './device_state.js';
export * from './listener.js';
export * from './server.js';
export * from './device_keys.js';
export * from './key_file.js';
export * from './scheduler.js';
export * from './work.js';
