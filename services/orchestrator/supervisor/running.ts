/** What the supervisor holds for an execution it drives: its playbook and net, its state, and what its commands need. */
import type { Contract } from '../../../contracts/index.ts';
import type { Delivery, EventsMessage, TableRef } from '../../../platform/bus/index.ts';
import type { ParentCommand } from '../../../platform/index.ts';
import type { Playbook, ResultReads, Step } from '../dsl/index.ts';
import type { ExecutionState } from '../engine/engine.ts';
import type { Net } from '../engine/net.ts';

export interface Running {
  playbook: Playbook;
  /** The playbook's steps by name. */
  steps: ReadonlyMap<string, Step>;
  net: Net;
  state: ExecutionState;
  contracts: Map<string, Contract>;
  /** What each produced product's gate reads besides the output, fixed when the execution starts. */
  gateRefs: Map<string, { references: Record<string, TableRef>; previous: TableRef | undefined }>;
  consumes: Map<string, TableRef>;
  pools: Map<string, string>;
  /** The earlier results each step's command carries. */
  reads: ResultReads;
  /** Serialises event handling for this execution. */
  queue: Promise<void>;
  /** Worker events waiting to be applied; drained in one transaction. */
  inbox: Delivery<EventsMessage>[];
  /** The drain queued but not yet begun: every event arriving before it begins rides on it. */
  nextDrain: Promise<void> | undefined;
  /** Ids of the events folded into `state`, so a redelivered event is folded once. */
  seen: Set<string>;
  /** For a sub-playbook's execution: the parent step it answers. */
  parent: ParentCommand | undefined;
}
