// Adapter estimation (rounds.ts explains the method); what attacks and drivers import.
export * from './options.js';
export * from './device_estimate.js';
export * from './mismatch.js';
export * from './rounds.js';
export * from './sample.js';
export * from './store.js';
