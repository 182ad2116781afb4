/**
 * A worker: pulls step commands for its pool, runs the tool, gates product
 * outputs, publishes what passes and reports every outcome as events. It keeps
 * no state between commands and serves no HTTP. A command is acked only after
 * its outcome event is published, so a worker that dies mid-step loses nothing:
 * the command is redelivered to another worker.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { asNoetlError } from '../../common/errors.ts';
import type { Contract } from '../../contracts/index.ts';
import type { RunEventType } from '../../lineage/index.ts';
import { SUBJECTS, type Bus, type Delivery, type ExecutionEvent, type ExecutionEventBody, type QualityReport, type StepCommand, type StepResult, type Subscription } from '../../platform/bus/index.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { LocalArtifactStore } from './artifacts/local-store.ts';
import { describeGateFailure, runQualityGate } from './gate/quality-gate.ts';
import { stepLineage } from './step-lineage.ts';
import { TOOLS } from './tools/index.ts';

export interface WorkerOptions {
  bus: Bus;
  log: Logger;
  artifactsDir: string;
  pool?: string;
  concurrency?: number;
  /** Ack deadline; a silent worker's command comes back after it. */
  ackWaitMs?: number;
}

export class Worker {
  readonly id = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly artifacts: LocalArtifactStore;
  private duckdb: DuckDBInstance | undefined;
  private subscription: Subscription | undefined;
  private readonly inflight = new Set<AbortController>();

  constructor(private readonly options: WorkerOptions) {
    this.artifacts = new LocalArtifactStore(options.artifactsDir);
  }

  async start(): Promise<void> {
    this.duckdb = await DuckDBInstance.create(':memory:');
    const pool = this.options.pool ?? 'default';
    this.subscription = this.options.bus.consume<StepCommand>(
      { durable: `workers-${pool}`, filter: SUBJECTS.commands(pool), concurrency: this.options.concurrency ?? 2, ackWaitMs: this.options.ackWaitMs ?? 30_000 },
      (m) => this.handle(m),
    );
    this.options.log.debug('worker started', { worker: this.id, pool });
  }

  /** Stops pulling and waits for the steps under way. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.duckdb?.closeSync();
    this.duckdb = undefined;
  }

  private async handle(m: Delivery<StepCommand>): Promise<void> {
    const cmd = m.data;
    const log = this.options.log.child({ execution: cmd.executionId, step: cmd.step, attempt: cmd.attempt });
    const abort = new AbortController();
    this.inflight.add(abort);
    const started = Date.now();
    try {
      await this.emit(cmd, `${cmd.commandId}:started`, { type: 'step.started', step: cmd.step, attempt: cmd.attempt, worker: this.id }, 'START');
      const outcome = await this.execute(cmd, abort.signal, () => m.working(), log);
      const durationMs = Date.now() - started;
      if (outcome.ok) {
        await this.emit(cmd, `${cmd.commandId}:completed`, { type: 'step.completed', step: cmd.step, attempt: cmd.attempt, result: outcome.result, ...(outcome.quality ? { quality: outcome.quality } : {}), durationMs }, 'COMPLETE', outcome.result);
      } else {
        await this.emit(cmd, `${cmd.commandId}:failed`, { type: 'step.failed', step: cmd.step, attempt: cmd.attempt, error: outcome.error, ...(outcome.quality ? { quality: outcome.quality } : {}), durationMs }, 'FAIL', undefined, outcome.error.message);
      }
      m.ack();
    } finally {
      this.inflight.delete(abort);
    }
  }

  private async execute(
    cmd: StepCommand,
    signal: AbortSignal,
    heartbeat: () => void,
    log: Logger,
  ): Promise<{ ok: true; result: StepResult; quality?: QualityReport } | { ok: false; error: { code: string; message: string; retryable: boolean }; quality?: QualityReport }> {
    const tool = TOOLS.get(cmd.tool.kind);
    try {
      if (!tool) throw asNoetlError(new Error(`no tool "${cmd.tool.kind}" on worker ${this.id}`), 'E_PLAYBOOK_UNKNOWN_TOOL');
      const outputPath = this.artifacts.stagingPath(cmd.executionId, cmd.step, cmd.attempt);
      const duckdb = this.duckdb!;
      const result = await tool.run({ signal, heartbeat, log, command: cmd, artifacts: this.artifacts, duckdb, outputPath });
      if (!cmd.produces) return { ok: true, result };
      return await this.gate(cmd, result, duckdb);
    } catch (e) {
      const err = asNoetlError(e, 'E_TOOL_FAILED');
      log.warn('step failed', { code: err.code, error: err.message });
      return { ok: false, error: { code: err.code, message: err.message, retryable: err.retryable } };
    }
  }

  /** Write-audit-publish: check the staged output, publish it only if the gate passes. */
  private async gate(cmd: StepCommand, result: StepResult, duckdb: DuckDBInstance): Promise<{ ok: true; result: StepResult; quality: QualityReport } | { ok: false; error: { code: string; message: string; retryable: boolean }; quality?: QualityReport }> {
    const produces = cmd.produces!;
    const contract = produces.contract as Contract;
    if (result.kind !== 'table') {
      return { ok: false, error: { code: 'E_SCHEMA_NONCONFORMANT', message: `step "${cmd.step}" produces ${produces.productId} but returned no table`, retryable: false } };
    }
    const materializationId = `${cmd.executionId}.${cmd.step}.${cmd.attempt}`;
    const conn = await duckdb.connect();
    let outcome;
    try {
      outcome = await runQualityGate(conn, contract, this.artifacts.resolve(result.uri), result);
    } finally {
      conn.closeSync();
    }
    const report = (artifact: typeof result): QualityReport => ({ productId: produces.productId, contractVersion: contract.version, materializationId, artifact, ...outcome });
    if (!outcome.passed) {
      const code = outcome.conformance.some((p) => p.severity === 'error') ? 'E_SCHEMA_NONCONFORMANT' : 'E_QUALITY_GATE_FAILED';
      return { ok: false, error: { code, message: describeGateFailure(produces.productId, outcome), retryable: false }, quality: report(result) };
    }
    const published = await this.artifacts.publish(result, produces.productId, materializationId);
    return { ok: true, result: published, quality: report(published) };
  }

  private emit(cmd: StepCommand, eventId: string, body: ExecutionEventBody, lineage: RunEventType, result?: StepResult, error?: string): Promise<void> {
    const at = new Date().toISOString();
    const event: ExecutionEvent = { ...body, eventId, executionId: cmd.executionId, at, lineage: stepLineage(cmd, lineage, at, result, error) };
    return this.options.bus.publish(SUBJECTS.events(cmd.executionId), event, { msgId: eventId });
  }
}
