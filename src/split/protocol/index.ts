export * from './errors.js';
export * from './crc32.js';
export * from './dtypes.js';
export * from './limits.js';
export * from './messages.js';
export * from './wire.js';
export * from './frame.js';
