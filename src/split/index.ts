// Split learning runtime: wire protocol, transports, device/server sessions, capture.
export * from './protocol/index.js';
export * from './transport/index.js';
export * from './session/index.js';
export * from './capture/index.js';
