export * from './types.js';
export * from './loss.js';
export * from './sampling.js';
export * from './device.js';
export * from './server.js';
