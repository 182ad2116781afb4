export { storeLineage, addToGraph, type StoreResult } from './lineage-store.ts';
export { HttpLineageTransport, FileLineageTransport, BusLineageTransport, lineageTransports, type LineageTransport } from './transports.ts';
export { lineage, nodeExists, nodeId, type NodeKey, type Direction, type WalkOptions, type LineageAnswer, type LineageNode, type LineageLink, type Truncation } from './lineage-queries.ts';
