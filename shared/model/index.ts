export * from './agent.js';
export * from './session.js';
export * from './health.js';
export * from './console.js';
export * from './target.js';
