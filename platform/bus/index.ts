export * from './bus.ts';
export * from './messages.ts';
export * from './deployment-names.ts';
export { splitNatsUrl, type NatsCredentials, type NatsTlsFiles } from './nats-connection.ts';
export { MemoryBus, type MemoryBusOptions } from './memory-bus.ts';
export { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus.ts';
