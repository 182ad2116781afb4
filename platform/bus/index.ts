export * from './bus.ts';
export * from './messages.ts';
export { MemoryBus } from './memory-bus.ts';
export { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus.ts';
