/**
 * The supervisor drives executions: it starts them, turns engine decisions into
 * persisted events and commands, and applies the events workers send back.
 * Every event is written to the log before it has effects; events of one
 * execution are applied one at a time; an event id already applied is ignored.
 * An execution not in memory (after a restart) is rebuilt by replaying its log,
 * and `recover()` resumes every execution that had not ended.
 *
 * No single execution can stop the supervisor: when its events cannot be
 * applied, its commands cannot be sent, or it cannot be rebuilt, and the
 * database itself answers, that execution alone is failed with
 * E_EXECUTION_POISONED and its messages dropped; the others carry on.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatDiagnostic } from '../../../common/diagnostics.ts';
import { NoetlError, asNoetlError } from '../../../common/errors.ts';
import { EXPRESSIONS, evaluateValue } from '../../../common/expressions.ts';
import { eventsOf, unitFields, type Bus, type Delivery, type EventsMessage, type ExecutionEvent, type ExecutionEventBody, type StepCommand, type Subscription, type TableRef } from '../../../platform/bus/index.ts';
import type { ArtifactStore, Db, LineageTransport, ParentCommand } from '../../../platform/index.ts';
import type { Logger } from '../../../platform/log/logger.ts';
import { parsePlaybook, PLAYBOOK_TOOL, resultReads, type Playbook } from '../dsl/index.ts';
import { apply, decide, DEFAULT_LIMITS, endedState, initialState, replay, type ExecutionState } from '../engine/engine.ts';
import { compileNet } from '../engine/net.ts';
import { commandOf } from './commands.ts';
import { childIdOf, decisionEvent, inFlightUnits, type Dispatch } from './decisions.ts';
import { executionLineage } from './execution-lineage.ts';
import { checkOutcome } from './outcome-check.ts';
import { ExecutionStore } from './execution-store.ts';
import { failPoisoned, isPoison } from './poison.ts';
import { DEFAULT_POOLS, routeSteps, type PoolConfig } from './pools.ts';
import type { Running } from './running.ts';
import { TrailingGraph } from './trailing-graph.ts';
import { settleUnknownEvents } from './unknown-events.ts';
import { checkWorkload } from './workload.ts';

/** What to do when commands cannot be sent for a reason retrying may cure: retry later, or throw to the caller. */
type SendFailure = 'retry' | 'throw';

const RESEND_DELAY_MS = 1_000;

export interface SupervisorOptions {
  db: Db;
  bus: Bus;
  log: Logger;
  /** Tool kinds the worker pools can run, for checking playbooks at start. */
  toolKinds: ReadonlySet<string>;
  pools?: PoolConfig[];
  /** Steps of one execution running at once. */
  maxInFlightPerExecution?: number;
  /** Where OpenLineage events also go, after they are in the log. */
  lineageTransports?: LineageTransport[];
  /** Where workers put tables: what their reports claim is checked against it. */
  artifacts: ArtifactStore;
}

export class Supervisor {
  private readonly store: ExecutionStore;
  private readonly running = new Map<string, Running>();
  private readonly emitter = new EventEmitter();
  private readonly pools: PoolConfig[];
  /** Executions with a step held back because its pool is full. */
  private readonly waitingForPool = new Set<string>();
  private readonly hydrating = new Map<string, Promise<Running | undefined>>();
  private subscription: Subscription | undefined;
  private readonly graph: TrailingGraph;

  constructor(private readonly options: SupervisorOptions) {
    this.store = new ExecutionStore(options.db);
    this.graph = new TrailingGraph((events) => this.store.addToGraph(events), options.log);
    this.pools = options.pools ?? DEFAULT_POOLS;
    this.emitter.setMaxListeners(0);
  }

  /** Starts consuming worker events. */
  start(): void {
    const { durables, subjects } = this.options.bus.names;
    this.subscription = this.options.bus.consume<EventsMessage>(
      { durable: durables.orchestrator, filter: subjects.allEvents, concurrency: 64, maxDeliver: 100, prefetch: 256 },
      (m) => this.onDelivery(m),
    );
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    await Promise.allSettled([...this.running.values()].map((r) => r.queue));
    await this.graph.flush();
  }

  /** Resumes every execution that had not ended: rebuilds it from its log, re-sends the commands in flight, carries on. */
  async recover(): Promise<string[]> {
    const ids = await this.store.unfinished();
    for (const id of ids) {
      try {
        const run = this.running.get(id) ?? (await this.hydrate(id));
        if (!run) continue;
        await this.serial(id, run, async () => {
          await this.sendAll(run, inFlightUnits(run.state), 'throw');
          await this.commit(run, []);
        });
      } catch (e) {
        // The database is down: nothing can be resumed, and the caller should know. Otherwise only this one is lost.
        if (!(await isPoison(this.store, e))) throw e;
        await this.poison(id, e);
      }
    }
    if (ids.length > 0) this.options.log.info('resumed executions', { count: ids.length });
    return ids;
  }

  /** Listens to every event applied, in order per execution. Returns an unsubscribe function. */
  onEvent(listener: (e: ExecutionEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /**
   * Validates the playbook and the workload (defaults merged with `params`, against
   * the playbook's workload schema), persists `execution.started` and fires the
   * start step. A sub-playbook's execution has a `parent` and a fixed id.
   */
  async startExecution(ref: string, params: Record<string, unknown> = {}, child?: { id: string; parent: ParentCommand }): Promise<string> {
    const { source, sha256, file, domain } = await this.store.playbookSource(ref);
    const playbook = await this.parse(source, file, domain);
    const executionId = child?.id ?? randomUUID();
    const workload = { ...playbook.workload, ...params };
    checkWorkload(playbook, workload);
    const run = await this.prepare(playbook, executionId, workload, undefined, child?.parent);
    await this.store.createExecution(executionId, ref, sha256, workload, child?.parent);
    this.running.set(executionId, run);
    const started = this.own(run, { type: 'execution.started', playbook: ref, workload, consumes: Object.fromEntries(run.consumes) }, 'started');
    try {
      await this.serial(executionId, run, () => this.commit(run, [started], 'throw'));
    } catch (e) {
      // Nothing is left running that could not start: the caller gets the reason, the log says it failed.
      await this.poison(executionId, e).catch((err: unknown) => this.options.log.error('cannot record a failed start', { execution: executionId, error: asNoetlError(err).message }));
      throw e;
    }
    return executionId;
  }

  /** Cancels an execution: nothing new starts, and running steps are told to stop. */
  async cancel(executionId: string, reason = 'cancelled on request'): Promise<ExecutionState> {
    const run = this.running.get(executionId) ?? (await this.hydrate(executionId));
    if (!run) throw new NoetlError('E_EXECUTION_NOT_FOUND', `no execution "${executionId}"`);
    await this.serial(executionId, run, async () => {
      if (run.state.status !== 'running') return;
      await this.commit(run, [this.own(run, { type: 'execution.cancelled', reason }, 'cancelled')]);
      await this.options.bus.broadcast(this.options.bus.names.subjects.cancel, { executionId, reason });
    });
    for (const child of await this.store.runningChildren(executionId)) await this.cancel(child, `the parent execution ${executionId} was cancelled: ${reason}`);
    return run.state;
  }

  /** The live state of an execution this supervisor drives, if any. */
  state(executionId: string): ExecutionState | undefined {
    return this.running.get(executionId)?.state;
  }

  /** Resolves with the final state once the execution has ended. */
  waitFor(executionId: string): Promise<ExecutionState> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const r = this.running.get(executionId);
        if (r && r.state.status !== 'running') {
          off();
          resolve(r.state);
          return true;
        }
        return false;
      };
      const off = this.onEvent((e) => {
        if (e.executionId !== executionId || check()) return;
        // Failed without a state in memory (it could not be rebuilt): the event says how it ended.
        if (e.type === 'execution.failed' && !this.running.has(executionId)) {
          off();
          resolve(endedState(executionId, e.error));
        }
      });
      // Not in memory (ended a while ago, or driven before a restart): rebuild it from the log;
      // one that cannot be rebuilt (it was poisoned for that) ended as its row says.
      if (!check() && !this.running.has(executionId)) {
        void this.hydrate(executionId).then(check, async () => {
          const row = await this.store.execution(executionId).catch(() => undefined);
          if (!row || row.status === 'running') return;
          off();
          resolve(endedState(executionId, row.error ?? { code: 'E_INTERNAL', message: `execution ${executionId} ${row.status}`, retryable: false }));
        });
      }
    });
  }

  private async parse(source: string, file: string, domain: string): Promise<Playbook> {
    const parsed = parsePlaybook(source, file, domain, { toolKinds: this.options.toolKinds, products: await this.store.productIds(), playbooks: await this.store.playbookRefs() });
    if (!parsed.playbook) {
      throw new NoetlError('E_PLAYBOOK_INVALID', `playbook ${file} is invalid:\n${parsed.diagnostics.map(formatDiagnostic).join('\n')}`);
    }
    return parsed.playbook;
  }

  /** Everything an execution needs besides its events; `recorded` are the product versions it read when it started. */
  private async prepare(playbook: Playbook, executionId: string, workload: Record<string, unknown>, recorded: Record<string, TableRef> | undefined, parent: ParentCommand | undefined): Promise<Running> {
    const pools = routeSteps(playbook, this.pools);
    const produced = playbook.steps.flatMap((s) => (s.produces ? [s.produces] : []));
    const consumed = [...new Set(playbook.steps.flatMap((s) => s.consumes))];
    const contracts = await this.store.contracts(produced);
    const gateRefs = new Map(await Promise.all([...contracts].map(async ([id, c]) => [id, await this.store.gateReferences(c)] as const)));
    const consumes = recorded ? new Map(Object.entries(recorded)) : await this.store.publishedRefs(consumed);
    const missing = consumed.filter((c) => !consumes.has(c));
    if (missing.length > 0) {
      throw new NoetlError('E_PRODUCT_NOT_PUBLISHED', `playbook ${playbook.ref} consumes ${missing.join(', ')}, which ${missing.length > 1 ? 'have' : 'has'} no published version yet; build ${missing.length > 1 ? 'them' : 'it'} first`);
    }
    const net = compileNet(playbook);
    return { playbook, steps: new Map(playbook.steps.map((s) => [s.name, s])), net, state: initialState(net, executionId, workload), contracts, gateRefs, consumes, pools, reads: resultReads(playbook), queue: Promise.resolve(), inbox: [], nextDrain: undefined, seen: new Set(), parent };
  }

  private async onDelivery(m: Delivery<EventsMessage>): Promise<void> {
    const event = eventsOf(m.data)[0];
    if (event === undefined) {
      m.term();
      return;
    }
    let run: Running | undefined;
    try {
      run = this.running.get(event.executionId) ?? (await this.hydrate(event.executionId));
    } catch (e) {
      await this.onFailure(event.executionId, e, [m], 'cannot rebuild the execution of an event');
      return;
    }
    if (!run) {
      await settleUnknownEvents(this.options.db, this.options.log, m);
      return;
    }
    run.inbox.push(m);
    await this.drainSoon(run);
  }

  /**
   * Settles once the events now in the inbox are applied. Deliveries that arrive
   * while a commit is under way share the next one, so a burst of worker events
   * costs one commit, not one each behind the others.
   */
  private drainSoon(run: Running): Promise<void> {
    run.nextDrain ??= this.serial(run.state.executionId, run, () => {
      run.nextDrain = undefined;
      return this.drain(run);
    });
    return run.nextDrain;
  }

  /** Applies every event waiting in the inbox, with the decisions they lead to, in one transaction. */
  private async drain(run: Running): Promise<void> {
    const batch = run.inbox.splice(0);
    if (batch.length === 0) return;
    if (this.running.get(run.state.executionId) !== run) {
      // A failed write dropped this copy of the execution (its state is ahead of the log):
      // hand the events back; their redelivery rebuilds the execution from the log.
      for (const d of batch) d.nak(100);
      return;
    }
    try {
      await this.commit(run, batch.flatMap((d) => eventsOf(d.data)));
      for (const d of batch) d.ack();
    } catch (e) {
      await this.onFailure(run.state.executionId, e, batch, 'cannot apply events');
      return;
    }
    if (this.waitingForPool.size > 0 && batch.some((d) => eventsOf(d.data).some((e) => e.type === 'step.completed' || e.type === 'step.failed'))) this.wakeWaiting();
  }

  /** Rebuilds an execution from its event log (once, however many events ask at the same time). */
  private hydrate(executionId: string): Promise<Running | undefined> {
    let pending = this.hydrating.get(executionId);
    if (!pending) {
      pending = this.rebuild(executionId).finally(() => this.hydrating.delete(executionId));
      this.hydrating.set(executionId, pending);
    }
    return pending;
  }

  private async rebuild(executionId: string): Promise<Running | undefined> {
    const row = await this.store.execution(executionId);
    if (!row) return undefined;
    const version = await this.store.playbookVersion(row.playbook_ref, row.playbook_sha);
    const playbook = await this.parse(version.source, version.file, version.domain);
    const events = await this.store.events(executionId);
    const started = events[0];
    const workload = started?.type === 'execution.started' ? started.workload : {};
    const recorded = started?.type === 'execution.started' ? started.consumes : undefined;
    const run = await this.prepare(playbook, executionId, workload, recorded ?? {}, row.parent_command ?? undefined);
    run.state = replay(run.net, events, EXPRESSIONS) ?? run.state;
    for (const e of events) run.seen.add(e.eventId);
    this.running.set(executionId, run);
    return run;
  }

  private serial(executionId: string, run: Running, work: () => Promise<void>): Promise<void> {
    const next = run.queue.then(work, work);
    run.queue = next.catch((e: unknown) => {
      this.options.log.error('execution handler failed', { execution: executionId, error: asNoetlError(e).message });
    });
    return next;
  }

  /**
   * The heart of the supervisor. Folds `incoming` events into the state, then
   * the engine's decisions, round after round, all in memory; writes every one
   * of them to the log in ONE transaction; and only then sends the commands and
   * tells listeners. A step of a chain thus costs one commit, not one per event.
   * If the write fails the in-memory state is dropped: the next event rebuilds
   * it from the log, which never saw what failed.
   */
  private async commit(run: Running, incoming: readonly ExecutionEvent[], onSendFailure: SendFailure = 'retry'): Promise<void> {
    const folded: ExecutionEvent[] = [];
    const fold = (e: ExecutionEvent): void => {
      if (run.seen.has(e.eventId)) return;
      run.seen.add(e.eventId);
      run.state = apply(run.net, run.state, e, EXPRESSIONS);
      folded.push(e);
    };
    for (const e of incoming) fold(run.seen.has(e.eventId) || !('step' in e) ? e : await checkOutcome(this.options.artifacts, run.steps.get(e.step), e));
    const sends = this.decideRounds(run, fold);
    let appended: Awaited<ReturnType<ExecutionStore['append']>>;
    try {
      appended = await this.store.append(folded);
    } catch (e) {
      this.running.delete(run.state.executionId);
      throw e;
    }
    const written = appended.written;
    // Sent even when already in the log: after a crash between the two the command
    // may be missing, and the message id makes a second publish a no-op.
    await this.sendAll(run, sends, onSendFailure);
    // Job nodes of steps that touched no data reach the graph a moment later, together;
    // an execution is seen to end only once they are in.
    this.graph.add(appended.trailing);
    if (run.state.status !== 'running') await this.graph.flush();
    for (const e of written) this.emitter.emit('event', e);
    this.forwardLineage(written);
    if (run.state.status !== 'running') {
      if (run.parent && written.some((e) => e.type.startsWith('execution.') && e.type !== 'execution.started')) await this.answerParent(run);
      this.forgetLater(run);
    }
  }

  /**
   * Sends commands. A failure retrying may cure (the bus is down) is retried
   * later, every command in flight again (the message ids make repeats no-ops),
   * unless the caller wants it thrown; any other (a command over the message size,
   * a permission refused) throws, and the execution is failed by the caller.
   */
  private async sendAll(run: Running, sends: readonly Dispatch[], onFailure: SendFailure): Promise<void> {
    try {
      await Promise.all(sends.map((d) => this.send(run, d)));
    } catch (e) {
      const err = asNoetlError(e);
      if (!err.retryable || onFailure === 'throw') throw err;
      const id = run.state.executionId;
      this.options.log.warn('commands not sent; they will be sent again', { execution: id, error: err.message });
      setTimeout(() => {
        if (this.running.get(id) !== run || run.state.status !== 'running') return;
        void this.serial(id, run, () => this.sendAll(run, inFlightUnits(run.state), 'retry')).catch((again: unknown) => this.onFailure(id, again, [], 'cannot send commands'));
      }, RESEND_DELAY_MS).unref();
    }
  }

  /** Handles what went wrong with one execution's messages: poison fails it and drops them, anything else hands them back. */
  private async onFailure(executionId: string, e: unknown, deliveries: readonly Delivery<EventsMessage>[], what: string): Promise<void> {
    if (await isPoison(this.store, e)) {
      try {
        await this.poison(executionId, e);
        for (const d of deliveries) d.term();
        return;
      } catch (again) {
        this.options.log.error('cannot record a poisoned execution', { execution: executionId, error: asNoetlError(again).message });
      }
    }
    this.options.log.error(`${what}; will try again`, { execution: executionId, error: asNoetlError(e).message });
    for (const d of deliveries) d.nak(1000);
  }

  /** Fails an execution that cannot go on (poison.ts); what is in memory of it and its listeners hear it ended. */
  private async poison(executionId: string, cause: unknown): Promise<void> {
    const failed = await failPoisoned(this.options.bus, this.store, executionId, cause, (parent, body) => this.publishToParent(parent, body, 'failed'));
    if (!failed) return;
    this.options.log.error('execution poisoned', { execution: executionId, error: failed.error.message });
    const run = this.running.get(executionId);
    if (run) {
      run.state = { ...run.state, status: 'failed', error: failed.error };
      run.seen.add(failed.eventId);
      this.forgetLater(run);
    }
    this.emitter.emit('event', failed);
  }

  /** An ended execution leaves memory a minute later; a late event rebuilds it from the log. */
  private forgetLater(run: Running): void {
    const id = run.state.executionId;
    setTimeout(() => {
      if (this.running.get(id) === run && run.inbox.length === 0) this.running.delete(id);
    }, 60_000).unref();
  }

  /** Best effort: a transport that fails is logged and never holds up an execution. */
  private forwardLineage(events: readonly ExecutionEvent[]): void {
    const lineage = events.flatMap((e) => e.lineage ?? []);
    if (lineage.length === 0) return;
    for (const t of this.options.lineageTransports ?? []) {
      t.send(lineage).catch((err: unknown) => this.options.log.warn('lineage transport failed', { transport: t.name, error: asNoetlError(err).message }));
    }
  }

  /** Folds in the engine's decisions until it has none left (or only what a full pool holds back); returns the dispatches. */
  private decideRounds(run: Running, fold: (e: ExecutionEvent) => void): Dispatch[] {
    const limits = { ...DEFAULT_LIMITS, maxInFlight: this.options.maxInFlightPerExecution ?? 64 };
    const sends: Dispatch[] = [];
    for (;;) {
      let room: Map<string, number> | undefined;
      let changed = false;
      for (const d of decide(run.net, run.state, EXPRESSIONS, limits)) {
        if (d.type === 'dispatch') {
          const pool = run.pools.get(d.step);
          if (pool !== undefined) {
            room ??= this.poolRoom();
            const left = room.get(pool) ?? Number.POSITIVE_INFINITY;
            if (left <= 0) {
              this.waitingForPool.add(run.state.executionId);
              continue;
            }
            room.set(pool, left - 1);
          }
          sends.push(d);
        }
        const { body, key } = decisionEvent(run.state.executionId, d);
        fold(this.own(run, body, key));
        changed = true;
      }
      if (!changed) return sends;
    }
  }

  /** An event the orchestrator writes itself; its key makes it unique within the execution. */
  private own(run: Running, body: ExecutionEventBody, key: string): ExecutionEvent {
    const executionId = run.state.executionId;
    const at = new Date().toISOString();
    const lineage = executionLineage(run, body, at);
    return { ...body, eventId: `${executionId}:${key}`, executionId, at, ...(lineage.length > 0 ? { lineage } : {}) };
  }

  private async send(run: Running, d: Dispatch): Promise<void> {
    const command = commandOf(run, d);
    if (command.tool.kind === PLAYBOOK_TOOL) await this.startChild(run, command);
    else await this.options.bus.publish(this.options.bus.names.subjects.commands(run.pools.get(d.step)!), command, { msgId: command.commandId });
  }

  /**
   * A sub-playbook step: starts the child execution (its id derived from the
   * command, so sending the command again starts nothing new) with the step's
   * `input` as run parameters. The child's outcome comes back as the step's.
   */
  private async startChild(run: Running, cmd: StepCommand): Promise<void> {
    const id = childIdOf(cmd.commandId);
    const parent: ParentCommand = { executionId: cmd.executionId, commandId: cmd.commandId, step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd) };
    const existing = this.running.get(id) ?? (await this.hydrate(id));
    if (existing) {
      if (existing.state.status !== 'running') await this.answerParent(existing);
      return;
    }
    try {
      const input = evaluateValue(cmd.tool.input ?? {}, cmd.scope);
      if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new NoetlError('E_PLAYBOOK_INVALID', `the input of sub-playbook step "${cmd.step}" must be a mapping of workload values`);
      await this.startExecution(String(cmd.tool.path), input as Record<string, unknown>, { id, parent });
    } catch (e) {
      const err = asNoetlError(e, 'E_TOOL_FAILED');
      const error = { code: err.code, message: `sub-playbook ${String(cmd.tool.path)}: ${err.message}`, retryable: err.retryable };
      await this.publishToParent(parent, { type: 'step.failed', step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd), error, durationMs: 0 }, 'failed');
    }
  }

  /** A child execution has ended: its outcome becomes the outcome of the parent step that started it. */
  private async answerParent(child: Running): Promise<void> {
    const p = child.parent!;
    const unit = { step: p.step, attempt: p.attempt, ...unitFields(p), durationMs: 0 };
    const state = child.state;
    if (state.status === 'completed') {
      const value = { execution_id: state.executionId, status: state.status, results: state.results };
      await this.publishToParent(p, { type: 'step.completed', ...unit, result: { kind: 'value', value } }, 'completed');
    } else {
      const error = { code: state.error?.code ?? 'E_INTERNAL', message: `sub-playbook ${child.playbook.ref} (execution ${state.executionId}) ${state.status}: ${state.error?.message ?? 'no reason given'}`, retryable: false };
      await this.publishToParent(p, { type: 'step.failed', ...unit, error }, 'failed');
    }
  }

  private async publishToParent(parent: ParentCommand, body: ExecutionEventBody, outcome: string): Promise<void> {
    const eventId = `${parent.commandId}:${outcome}`;
    const event: ExecutionEvent = { ...body, eventId, executionId: parent.executionId, at: new Date().toISOString() };
    await this.options.bus.publish(this.options.bus.names.subjects.events(parent.executionId), [event], { msgId: eventId });
  }

  /** Steps each pool can still take: its limit less the steps dispatched or running there. */
  private poolRoom(): Map<string, number> {
    const room = new Map(this.pools.map((p) => [p.name, p.maxInFlight]));
    for (const r of this.running.values()) {
      if (r.state.status !== 'running') continue;
      for (const d of inFlightUnits(r.state)) {
        const pool = r.pools.get(d.step);
        if (pool !== undefined) room.set(pool, (room.get(pool) ?? 0) - 1);
      }
    }
    return room;
  }

  private wakeWaiting(): void {
    const ids = [...this.waitingForPool];
    this.waitingForPool.clear();
    for (const id of ids) {
      const run = this.running.get(id);
      if (run) void this.serial(id, run, () => this.commit(run, []));
    }
  }

}

