export * from './transport.js';
export * from './in_process.js';
export * from './websocket.js';
