/**
 * Public surface of the spring-system physics (client/physics). Everything the app needs is here:
 *   const choice = await choosePhysicsBackend({ search: location.search, nodes });
 *   const engine = await createPhysicsEngine({ backend: choice.backend, params });
 *   await engine.init(graph); await engine.step(); engine.readPositions(out);
 */
export { createPhysicsEngine, createLocalCpuEngine, type PhysicsEngine, type EngineOptions, type BackendName, type StepInfo } from './engine.js';
export { choosePhysicsBackend, parsePhysicsParam, trialBackend, BACKENDS, type BackendChoice, type ChooseOptions } from './choose.js';
export { DEFAULT_PARAMS, PHYSICS_PRESETS, TUNABLE_PARAMS, TUNABLE_RANGES, resolveParams, tunableDefaults, type PhysicsParams, type TunableParam } from './params.js';
export { MAX_NODES, MAX_EDGES, validateGraph, type PhysicsGraph } from './graph.js';
export { makeSwarmGraph, edgeStress, maxRelativeError } from './quality.js';
export { buildPhysicsGraph, HIERARCHY_WEIGHT, COMM_WEIGHT_MIN, COMM_WEIGHT_SPAN, type AgentNode, type AgentLink } from './build.js';
