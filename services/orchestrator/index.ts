/** The orchestrator service: the playbook DSL, the pure net engine and the supervisor. */
export * from './dsl/index.ts';
export { compileNet, type Net } from './engine/net.ts';
export { apply, decide, initialState, replay, DEFAULT_LIMITS, type ExecutionState, type Decision, type Limits, type Expressions } from './engine/engine.ts';
export { Supervisor, type SupervisorOptions } from './supervisor/supervisor.ts';
export { DEFAULT_POOLS, routeSteps, type PoolConfig } from './supervisor/pools.ts';
export { ExecutionStore } from './supervisor/execution-store.ts';
