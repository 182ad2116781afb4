/**
 * A worker: pulls step commands for its pool, runs the tool, gates product
 * outputs, publishes what passes and reports every outcome as events. It keeps
 * no state between commands and serves no HTTP. A command is acked only after
 * its outcome event is published, so a worker that dies mid-step loses nothing:
 * the command comes back to another worker after the ack deadline, and the
 * worker keeps the deadline moving (in-progress acks) while a step runs.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { AddressAllowlist } from '../../common/address-policy.ts';
import { NoetlError, asNoetlError } from '../../common/errors.ts';
import { secretRedactor, type Redactor } from '../../common/secret-redaction.ts';
import { partitionColumns, type Contract } from '../../contracts/index.ts';
import type { RunEventType } from '../../lineage/index.ts';
import { unitFields, type Bus, type Delivery, type ErrorInfo, type ExecutionEvent, type ExecutionEventBody, type QualityReport, type StepCommand, type StepResult, type Subscription, type TableRef } from '../../platform/bus/index.ts';
import type { PythonSandboxMode } from '../../platform/config/config.ts';
import { LocalArtifactStore, type ArtifactStore } from '../../platform/index.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { mergePartitions, writtenPartitions } from './gate/partitions.ts';
import { describeGateFailure, runQualityGate } from './gate/quality-gate.ts';
import { commandConsumer } from './command-consumer.ts';
import { redactEvent } from './redact-event.ts';
import { redactTable } from './redact-table.ts';
import { commandAccess, gateRefs } from './sandbox/command-access.ts';
import { DuckDbSandbox, type CommandDatabase } from './sandbox/duckdb-sandbox.ts';
import { stepLineage } from './step-lineage.ts';
import { describeParquet, runTools, type ToolLineage, type ToolOutput } from './tools/index.ts';

export interface WorkerOptions {
  bus: Bus;
  log: Logger;
  artifactsDir: string;
  pool?: string;
  concurrency?: number;
  /** Ack deadline; a silent worker's command comes back after it. */
  ackWaitMs?: number;
  /** Deliveries of one command before it is a dead letter. */
  maxDeliver?: number;
  /** Credentials this worker can hand to steps, by `<domain>/<name>`. */
  secrets?: Record<string, string>;
  /** The python3 python steps run with. */
  python?: string;
  /** How python steps are isolated: a bubblewrap sandbox per step (the default) or none. */
  pythonSandbox?: PythonSandboxMode;
  /** Staged artifacts of an execution untouched this long are removed (checked at start and hourly). */
  stagingMaxAgeMs?: number;
  /** Loopback, private and link-local addresses the http tool may reach (NOETL_HTTP_ALLOW); none by default. */
  httpAllow?: AddressAllowlist;
}

type Outcome = { ok: true; result: StepResult; quality?: QualityReport } | { ok: false; error: ErrorInfo; quality?: QualityReport };

/** What a running command's tools share with the worker: cancellation, the timeout, liveness, and what they report. */
interface RunContext {
  signal: AbortSignal;
  deadline: number | undefined;
  heartbeat: () => void;
  log: Logger;
  lineage: ToolLineage;
  output: ToolOutput;
}

const CANCELLED_MEMORY_MS = 3_600_000;

/**
 * A step that ends within this long reports its start and its outcome in one
 * message; a longer one reports its start once this has passed. Quick steps
 * thus cost one message and one commit, and a running step still shows as
 * running a moment after it starts.
 */
const START_REPORT_DELAY_MS = 20;

export class Worker {
  readonly id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly artifacts: ArtifactStore;
  /** Every command gets a DuckDB database of its own, which can touch only the command's files. */
  private readonly sandbox = new DuckDbSandbox();
  private subscription: Subscription | undefined;
  private cancelListener: { unsubscribe(): void } | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  /** Running commands by execution, so a cancellation can reach them. */
  private readonly running = new Map<string, Set<AbortController>>();
  private readonly cancelled = new Map<string, number>();
  /** Every credential this worker holds, in every form: nothing it publishes carries one. */
  private readonly redactor: Redactor;

  constructor(private readonly options: WorkerOptions) {
    this.artifacts = new LocalArtifactStore(options.artifactsDir);
    this.redactor = secretRedactor(Object.values(options.secrets ?? {}));
  }

  get pool(): string {
    return this.options.pool ?? 'default';
  }

  async start(): Promise<void> {
    await this.sandbox.warm();
    const { cancel } = this.options.bus.names.subjects;
    this.cancelListener = this.options.bus.listen<{ executionId: string; reason: string }>(cancel, (c) => this.cancel(c.executionId, c.reason));
    this.subscription = this.options.bus.consume<StepCommand>(
      {
        ...commandConsumer(this.options.bus.names, this.pool, this.options),
        concurrency: this.options.concurrency ?? 2,
        onDeadLetter: (_subject, data) => void this.deadLetter(data as StepCommand),
      },
      (m) => this.handle(m),
    );
    await this.subscription.ready;
    this.options.log.debug('worker started', { worker: this.id, pool: this.pool });
    if (this.options.stagingMaxAgeMs !== undefined) {
      this.collectStaging(this.options.stagingMaxAgeMs);
      this.gcTimer = setInterval(() => this.collectStaging(this.options.stagingMaxAgeMs!), 3_600_000);
      this.gcTimer.unref();
    }
  }

  /** Removes staged artifacts nothing has touched for the configured age; never fails the worker. */
  collectStaging(maxAgeMs: number): void {
    try {
      const removed = this.artifacts.collectStaging(maxAgeMs);
      if (removed.executions > 0) this.options.log.info('removed old staged artifacts', removed);
    } catch (e) {
      this.options.log.warn('staging garbage collection failed', { error: asNoetlError(e).message });
    }
  }

  /** Stops pulling and waits for the steps under way to finish and report. */
  async stop(): Promise<void> {
    this.cancelListener?.unsubscribe();
    clearInterval(this.gcTimer);
    await this.subscription?.stop();
    await this.sandbox.close();
  }

  private cancel(executionId: string, reason: string): void {
    const now = Date.now();
    this.cancelled.set(executionId, now);
    for (const [id, at] of this.cancelled) if (now - at > CANCELLED_MEMORY_MS) this.cancelled.delete(id);
    for (const abort of this.running.get(executionId) ?? []) abort.abort(new NoetlError('E_CANCELLED', reason));
  }

  private async handle(m: Delivery<StepCommand>): Promise<void> {
    const cmd = m.data;
    const wait = cmd.notBefore ? Date.parse(cmd.notBefore) - Date.now() : 0;
    if (wait > 0) {
      // A retry's backoff: hand the command back to be delivered when it is due.
      m.nak(wait);
      return;
    }
    const log = this.options.log.child({ execution: cmd.executionId, step: cmd.step, attempt: cmd.attempt });
    const abort = new AbortController();
    const mine = this.running.get(cmd.executionId) ?? new Set();
    mine.add(abort);
    this.running.set(cmd.executionId, mine);
    const keepAlive = setInterval(() => m.working(), Math.max(200, Math.floor((this.options.ackWaitMs ?? 30_000) / 3)));
    const timeout = cmd.timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(new NoetlError('E_STEP_TIMEOUT', `step "${cmd.step}" ran longer than its timeout of ${cmd.timeoutMs} ms`)), cmd.timeoutMs);
    const started = Date.now();
    // One started event per delivery, so a redelivery to another worker shows in the log.
    // It informs and decides nothing: sent on its own only if the step is still running a moment later.
    const start = this.event(cmd, `${cmd.commandId}:started:${m.deliveryCount}`, { type: 'step.started', step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd), worker: this.id }, 'START');
    let startSent: Promise<void> | undefined;
    const startTimer = setTimeout(() => {
      startSent = this.publish(cmd, [start]).catch((e: unknown) => log.warn('could not report the step started', { error: asNoetlError(e).message }));
    }, START_REPORT_DELAY_MS);
    try {
      if (this.cancelled.has(cmd.executionId)) abort.abort(new NoetlError('E_CANCELLED', 'the execution was cancelled'));
      const toolLineage: ToolLineage = {};
      const printed: ToolOutput = {};
      const deadline = cmd.timeoutMs === undefined ? undefined : started + cmd.timeoutMs;
      const outcome = await this.execute(cmd, { signal: abort.signal, deadline, heartbeat: () => m.working(), log, lineage: toolLineage, output: printed });
      clearTimeout(startTimer);
      const durationMs = Date.now() - started;
      const extras = { ...(outcome.quality ? { quality: outcome.quality } : {}), ...(printed.stdout || printed.stderr ? { output: printed } : {}) };
      const end = outcome.ok
        ? this.event(cmd, `${cmd.commandId}:completed`, { type: 'step.completed', step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd), result: outcome.result, ...extras, durationMs }, 'COMPLETE', outcome.result, undefined, toolLineage, outcome.quality)
        : this.event(cmd, `${cmd.commandId}:failed`, { type: 'step.failed', step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd), error: outcome.error, ...extras, durationMs }, outcome.error.code === 'E_CANCELLED' ? 'ABORT' : 'FAIL', undefined, outcome.error.message);
      if (startSent) {
        await startSent;
        await this.publish(cmd, [end]);
      } else await this.publish(cmd, [start, end]);
      m.ack();
    } finally {
      clearTimeout(startTimer);
      clearInterval(keepAlive);
      clearTimeout(timeout);
      mine.delete(abort);
      if (mine.size === 0) this.running.delete(cmd.executionId);
    }
  }

  private async execute(cmd: StepCommand, run: RunContext): Promise<Outcome> {
    const { signal, deadline, log } = run;
    let database: CommandDatabase | undefined;
    try {
      signal.throwIfAborted();
      const outputPath = this.artifacts.stagingPath(cmd.executionId, unitFileName(cmd), cmd.attempt);
      database = this.sandbox.forCommand(commandAccess(cmd, this.artifacts, outputPath));
      const handed = new Set<string>();
      const credential = (name: string): string => {
        const value = this.options.secrets?.[`${cmd.domain}/${name}`];
        if (value === undefined) throw new NoetlError('E_CREDENTIAL_MISSING', `worker ${this.id} has no credential "${name}" for domain ${cmd.domain}: set NOETL_SECRET_${cmd.domain.toUpperCase()}__${name.toUpperCase()} where the workers run`);
        handed.add(value);
        return value;
      };
      const tools = { python: this.options.python ?? 'python3', pythonSandbox: this.options.pythonSandbox ?? 'bwrap', httpAllow: this.options.httpAllow ?? [] };
      const context = { ...run, ...tools, command: cmd, artifacts: this.artifacts, duckdb: database.connect, outputPath, credential, secrets: Object.values(this.options.secrets ?? {}) };
      let result = await untilAborted(runTools(context, this.id), signal);
      // Work that blocked the event loop (templates, a driver) can end past the timeout before the timer fires.
      if (deadline !== undefined && Date.now() > deadline) throw new NoetlError('E_STEP_TIMEOUT', `step "${cmd.step}" ran longer than its timeout of ${cmd.timeoutMs} ms`);
      if (handed.size > 0 && result.kind === 'table') result = await this.withoutCredentials(database, result, handed, cmd.step);
      if (!cmd.produces) return { ok: true, result };
      return await this.gate(cmd, result);
    } catch (e) {
      const err = asNoetlError(e, 'E_TOOL_FAILED');
      // A driver may echo a connection string: no credential value leaves this worker.
      const message = this.redactor.text(err.message);
      log.warn('step failed', { code: err.code, error: message });
      return { ok: false, error: { code: err.code, message, retryable: err.retryable } };
    } finally {
      database?.release();
    }
  }

  /** The step's table with every credential it was handed replaced (redact-table.ts). */
  private async withoutCredentials(database: CommandDatabase, table: TableRef, handed: Set<string>, step: string): Promise<TableRef> {
    const conn = await database.connect();
    try {
      return await redactTable(conn, this.artifacts, table, handed, step);
    } finally {
      conn.closeSync();
    }
  }

  /** Write-audit-publish: check the staged output, publish it only if the gate passes. */
  private async gate(cmd: StepCommand, result: StepResult): Promise<Outcome> {
    const produces = cmd.produces!;
    const contract = produces.contract as Contract;
    if (result.kind !== 'table') {
      return { ok: false, error: { code: 'E_SCHEMA_NONCONFORMANT', message: `step "${cmd.step}" produces ${produces.productId} but returned no table`, retryable: false } };
    }
    const materializationId = `${cmd.executionId}.${unitFileName(cmd)}.${cmd.attempt}`;
    const partitionCols = partitionColumns(contract);
    const staged = this.artifacts.resolve(result.uri);
    const previous = produces.previous ? this.artifacts.resolve(produces.previous.uri) : undefined;
    const merging = partitionCols.length > 0 && previous !== undefined;
    const target = merging ? this.artifacts.publishedPath(produces.productId, materializationId) : undefined;
    // The gate runs the contract's own SQL too: on a database of its own that reads the output and what it compares with.
    const read = [staged, ...gateRefs(cmd).map((r) => this.artifacts.resolve(r.uri))];
    const duckdb = await this.sandbox.open({ read, write: [], writeFiles: target ? [target] : [] });
    const conn = await duckdb.connect();
    try {
      const refs = Object.fromEntries(Object.entries(produces.references ?? {}).map(([k, ref]) => [k, { file: this.artifacts.resolve(ref.uri), rows: ref.rows }]));
      // The output holds exactly the partitions this run wrote: the checks read it alone.
      const outcome = await runQualityGate(conn, contract, { file: staged, actual: result, refs, previous });
      const partitions = partitionCols.length > 0 ? { partitions: await writtenPartitions(conn, staged, partitionCols) } : {};
      const report = (artifact: TableRef): QualityReport => ({ productId: produces.productId, contractVersion: contract.version, materializationId, artifact, ...outcome, ...partitions });
      if (!outcome.passed) {
        const code = outcome.conformance.some((p) => p.severity === 'error') ? 'E_SCHEMA_NONCONFORMANT' : 'E_QUALITY_GATE_FAILED';
        return { ok: false, error: { code, message: describeGateFailure(produces.productId, outcome), retryable: false }, quality: report(result) };
      }
      if (target !== undefined && previous !== undefined) {
        await mergePartitions(conn, previous, staged, partitionCols, target);
        const merged = await describeParquet(conn, this.artifacts, target);
        this.artifacts.discard(result);
        return { ok: true, result: merged, quality: report(merged) };
      }
      const published = await this.artifacts.publish(result, produces.productId, materializationId);
      return { ok: true, result: published, quality: report(published) };
    } finally {
      conn.closeSync();
      this.sandbox.release(duckdb);
    }
  }

  /** A command delivered too often without an outcome: report it failed so the execution does not wait forever. */
  private async deadLetter(cmd: StepCommand): Promise<void> {
    const error = { code: 'E_DEAD_LETTER', message: `step "${cmd.step}" was delivered ${this.options.maxDeliver ?? 10} times without an outcome (workers died or timed out each time)`, retryable: false };
    this.options.log.error('dead letter', { execution: cmd.executionId, step: cmd.step });
    const dead = this.event(cmd, `${cmd.commandId}:dead`, { type: 'step.failed', step: cmd.step, attempt: cmd.attempt, ...unitFields(cmd), error, durationMs: 0 }, 'FAIL', undefined, error.message);
    await this.publish(cmd, [dead]).catch(() => undefined);
  }

  private event(cmd: StepCommand, eventId: string, body: ExecutionEventBody, lineage: RunEventType, result?: StepResult, error?: string, tool?: ToolLineage, quality?: QualityReport): ExecutionEvent {
    const at = new Date().toISOString();
    // A step that starts is running at once: START and RUNNING go together.
    const types: RunEventType[] = lineage === 'START' ? ['START', 'RUNNING'] : [lineage];
    return { ...body, eventId, executionId: cmd.executionId, at, lineage: types.map((t) => stepLineage(cmd, t, at, result, error, tool, quality)) };
  }

  /** Events of one command, in order, as one message, redacted; the last one's id de-duplicates it. */
  private publish(cmd: StepCommand, events: ExecutionEvent[]): Promise<void> {
    return this.options.bus.publish(this.options.bus.names.subjects.events(cmd.executionId), events.map((e) => redactEvent(e, this.redactor)), { msgId: events.at(-1)!.eventId });
  }
}

/** A file-name-safe name of what a command runs: `step`, `step.run2`, `step.item3`. */
function unitFileName(cmd: StepCommand): string {
  return `${cmd.step}${cmd.run !== undefined && cmd.run > 1 ? `.run${cmd.run}` : ''}${cmd.iteration !== undefined ? `.item${cmd.iteration}` : ''}`;
}

/** Settles with the work, or rejects with the abort reason as soon as the signal fires. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
