export * from './protocol/binaryV2.js';
export * from './protocol/binaryV2Arrays.js';
export * from './protocol/messages.js';
export * from './model/index.js';
export * from './api.js';
