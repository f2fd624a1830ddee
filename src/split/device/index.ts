// The split-learning device runtime (`revertlm device`).
export * from './batches.js';
export * from './connect.js';
export * from './runner.js';
export * from './device_key.js';
