/** The worker service: stateless executors of step commands. */
export { Worker, type WorkerOptions } from './worker.ts';
export { commandConsumer } from './command-consumer.ts';
export { TOOL_KINDS } from './tools/index.ts';
export { runQualityGate, describeGateFailure, type GateOutcome } from './gate/quality-gate.ts';
export { describeParquet } from './tools/index.ts';
