/**
 * The orchestrator's persistence: executions, the append-only event log, and
 * the effects of events on the catalog (artifacts, materializations, quality
 * results, a product's current version). An event and its effects are written
 * in one transaction; an event id already in the log is not applied again.
 */
import { sql, type Transaction } from 'kysely';
import { NoetlError } from '../../../common/errors.ts';
import { relationshipTable, type Contract } from '../../../contracts/index.ts';
import { eventKey, type AnyLineageEvent } from '../../../lineage/index.ts';
import { addToGraph, preparedAs } from '../../../platform/index.ts';
import type { Db, ParentCommand, Schema } from '../../../platform/index.ts';
import type { ErrorInfo, ExecutionEvent, QualityReport, TableRef } from '../../../platform/bus/messages.ts';
import { storable } from './storable.ts';

type Tx = Transaction<Schema>;

export class ExecutionStore {
  constructor(private readonly db: Db) {}

  async playbookSource(ref: string): Promise<{ source: string; sha256: string; file: string; domain: string }> {
    const row = await this.db
      .selectFrom('playbooks as p')
      .innerJoin('playbook_versions as v', (j) => j.onRef('v.ref', '=', 'p.ref').onRef('v.sha256', '=', 'p.current_sha'))
      .select(['v.source', 'v.sha256', 'v.file', 'p.domain'])
      .where('p.ref', '=', ref)
      .executeTakeFirst();
    if (!row) throw new NoetlError('E_PLAYBOOK_NOT_FOUND', `no playbook "${ref}" in the catalog`);
    return row;
  }

  async playbookVersion(ref: string, sha256: string): Promise<{ source: string; file: string; domain: string }> {
    const row = await this.db
      .selectFrom('playbook_versions as v')
      .innerJoin('playbooks as p', 'p.ref', 'v.ref')
      .select(['v.source', 'v.file', 'p.domain'])
      .where('v.ref', '=', ref)
      .where('v.sha256', '=', sha256)
      .executeTakeFirst();
    if (!row) throw new NoetlError('E_PLAYBOOK_NOT_FOUND', `no version ${sha256.slice(0, 12)} of playbook "${ref}"`);
    return row;
  }

  async productIds(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('products').select('id').execute();
    return new Set(rows.map((r) => r.id));
  }

  /** The current contract of each product. */
  async contracts(ids: readonly string[]): Promise<Map<string, Contract>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('products as p')
      .innerJoin('contract_versions as c', (j) => j.onRef('c.product_id', '=', 'p.id').onRef('c.version', '=', 'p.contract_version'))
      .select(['p.id', 'c.body'])
      .where('p.id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, r.body as Contract]));
  }

  /**
   * What a product's checks read besides its output: the published tables its
   * relationships point at (by table name), the products its rules compare with
   * (by id), and its own current version (for drift).
   */
  async gateReferences(contract: Contract): Promise<{ references: Record<string, TableRef>; previous: TableRef | undefined }> {
    const tables = [...new Set(contract.properties.flatMap((p) => p.relationships.map((r) => relationshipTable(r.to))))];
    const compared = [...contract.properties.flatMap((p) => p.quality), ...contract.quality].flatMap((q) => (q.rule.kind === 'rowCountComparison' ? [q.rule.product] : []));
    const byTable = new Map<string, string>();
    if (tables.length > 0) {
      const rows = await this.db
        .selectFrom('products as p')
        .innerJoin('contract_versions as c', (j) => j.onRef('c.product_id', '=', 'p.id').onRef('c.version', '=', 'p.contract_version'))
        .select(['p.id', 'c.body'])
        .execute();
      for (const r of rows) {
        const name = (r.body as Contract).objectName;
        if (tables.includes(name)) byTable.set(name, r.id);
      }
    }
    const refs = await this.publishedRefs([...byTable.values(), ...compared, contract.productId]);
    const references: Record<string, TableRef> = {};
    for (const [table, id] of byTable) if (refs.has(id)) references[table] = refs.get(id)!;
    for (const id of compared) if (refs.has(id)) references[id] = refs.get(id)!;
    return { references, previous: refs.get(contract.productId) };
  }

  /** The published table of each product that has one. */
  async publishedRefs(ids: readonly string[]): Promise<Map<string, TableRef>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('products as p')
      .innerJoin('materializations as m', 'm.id', 'p.current_materialization_id')
      .innerJoin('artifacts as a', 'a.uri', 'm.artifact_uri')
      .select(['p.id', 'a.uri', 'a.schema', 'a.rows', 'a.bytes', 'a.sha256'])
      .where('p.id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, { kind: 'table', uri: r.uri, format: 'parquet', schema: r.schema, rows: Number(r.rows), bytes: Number(r.bytes), sha256: r.sha256 }]));
  }

  async createExecution(id: string, ref: string, sha: string, workload: Record<string, unknown>, parent?: ParentCommand): Promise<void> {
    await this.db
      .insertInto('executions')
      .values({ id, playbook_ref: ref, playbook_sha: sha, status: 'running', workload: JSON.stringify(workload), error: null, parent_id: parent?.executionId ?? null, parent_command: parent ? JSON.stringify(parent) : null })
      .execute();
  }

  async playbookRefs(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('playbooks').select('ref').execute();
    return new Set(rows.map((r) => r.ref));
  }

  /** Child executions (sub-playbooks) of an execution that have not ended. */
  async runningChildren(parentId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('executions').select('id').where('parent_id', '=', parentId).where('status', '=', 'running').execute();
    return rows.map((r) => r.id);
  }

  /** Executions that have not ended: what a restarted orchestrator resumes. */
  async unfinished(): Promise<string[]> {
    const rows = await this.db.selectFrom('executions').select('id').where('status', '=', 'running').orderBy('started_at').execute();
    return rows.map((r) => r.id);
  }

  async execution(id: string): Promise<{ playbook_ref: string; playbook_sha: string; status: string; parent_command: ParentCommand | null; error: ErrorInfo | null } | undefined> {
    const row = await this.db.selectFrom('executions').select(['playbook_ref', 'playbook_sha', 'status', 'parent_command', 'error']).where('id', '=', id).executeTakeFirst();
    return row && { ...row, error: row.error as ErrorInfo | null };
  }

  async events(executionId: string): Promise<ExecutionEvent[]> {
    const rows = await this.db.selectFrom('events').select('payload').where('execution_id', '=', executionId).orderBy('seq').execute();
    return rows.map((r) => r.payload as ExecutionEvent);
  }

  /**
   * Appends events and their effects in one transaction (a group commit) and
   * returns the ones that were new, in order; an event id already in the log is
   * skipped. Completed steps enter the lineage graph in the same transaction when
   * other effects need one; when only the log is written (a step that read and
   * wrote no data adds nothing but its job node), their lineage is handed back as
   * `trailing`, for `addToGraph` once the log write has had its effects.
   */
  async append(given: readonly ExecutionEvent[]): Promise<{ written: ExecutionEvent[]; trailing: AnyLineageEvent[] }> {
    if (given.length === 0) return { written: [], trailing: [] };
    const events = given.map(storable);
    const write = async (db: Db | Tx): Promise<ExecutionEvent[]> => {
      const fresh = new Set(await insertEvents(db, events));
      const inserted = events.filter((e) => fresh.delete(e.eventId));
      for (const e of inserted) await applyEffects(db, e);
      return inserted;
    };
    const completedLineage = (written: readonly ExecutionEvent[]): AnyLineageEvent[] =>
      written.flatMap((e) => (e.lineage ?? []).filter((l) => l.eventType === 'COMPLETE') as unknown as AnyLineageEvent[]);
    // One statement is atomic by itself; a transaction only when effects follow it.
    if (!events.some(hasEffects)) {
      const written = await write(this.db);
      return { written, trailing: completedLineage(written) };
    }
    const written = await this.db.transaction().execute(async (tx) => {
      const inserted = await write(tx);
      const completed = completedLineage(inserted);
      if (completed.length > 0) await addToGraph(tx, completed);
      return inserted;
    });
    return { written, trailing: [] };
  }

  /** Whether the database answers at all: a failure it explains is the database's, not an execution's. */
  async reachable(): Promise<boolean> {
    try {
      await sql`SELECT 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  /** Adds lineage to the graph (see `append`'s `trailing`). */
  addToGraph(events: readonly AnyLineageEvent[]): Promise<void> {
    return addToGraph(this.db, events);
  }
}

/**
 * Inserts events, and the OpenLineage events they carry, in one statement; returns
 * the ids that were new. The lineage event is stored once, in lineage_events.
 * Columns travel as arrays, so the text is the same for any batch and the
 * statement is prepared once per connection (every step of every run pays it).
 */
async function insertEvents(db: Db | Tx, events: readonly ExecutionEvent[]): Promise<string[]> {
  const ev = { id: [] as string[], execution: [] as string[], type: [] as string[], step: [] as (string | null)[], payload: [] as string[], at: [] as string[] };
  const lin = { event: [] as string[], run: [] as string[], type: [] as string[], namespace: [] as string[], job: [] as string[], time: [] as string[], body: [] as string[], key: [] as string[], producer: [] as string[] };
  for (const e of events) {
    const { lineage, ...payload } = e;
    ev.id.push(e.eventId);
    ev.execution.push(e.executionId);
    ev.type.push(e.type);
    ev.step.push('step' in e ? e.step : null);
    ev.payload.push(JSON.stringify(payload));
    ev.at.push(e.at);
    for (const l of lineage ?? []) {
      lin.event.push(e.eventId);
      lin.run.push(l.run.runId);
      lin.type.push(l.eventType);
      lin.namespace.push(l.job.namespace);
      lin.job.push(l.job.name);
      lin.time.push(l.eventTime);
      lin.body.push(JSON.stringify(l));
      lin.key.push(eventKey(l));
      lin.producer.push(l.producer);
    }
  }
  const result = await sql<{ event_id: string }>`${sql.raw(preparedAs('noetl_append_events'))}
    WITH ev AS (
      INSERT INTO events (event_id, execution_id, type, step, payload, at)
      SELECT * FROM unnest(${ev.id}::text[], ${ev.execution}::text[], ${ev.type}::text[], ${ev.step}::text[], ${ev.payload}::jsonb[], ${ev.at}::timestamptz[])
      ON CONFLICT (event_id) DO NOTHING
      RETURNING event_id),
    lin AS (
      INSERT INTO lineage_events (run_id, event_type, job_namespace, job_name, event_time, event, event_key, producer)
      SELECT l.run_id, l.event_type, l.job_namespace, l.job_name, l.event_time, l.event, l.event_key, l.producer
      FROM unnest(${lin.event}::text[], ${lin.run}::text[], ${lin.type}::text[], ${lin.namespace}::text[], ${lin.job}::text[], ${lin.time}::timestamptz[], ${lin.body}::jsonb[], ${lin.key}::text[], ${lin.producer}::text[])
        AS l(event_id, run_id, event_type, job_namespace, job_name, event_time, event, event_key, producer)
      WHERE l.event_id IN (SELECT event_id FROM ev)
      ON CONFLICT (event_key) DO NOTHING)
    SELECT event_id FROM ev`.execute(db);
  return result.rows.map((r) => r.event_id);
}

/** Whether applying the event changes more than the log. */
function hasEffects(e: ExecutionEvent): boolean {
  switch (e.type) {
    case 'step.completed':
      return e.result.kind === 'table' || e.quality !== undefined || (e.lineage ?? []).some((l) => l.inputs.length > 0);
    case 'step.failed':
      return e.quality !== undefined;
    case 'execution.completed':
    case 'execution.failed':
    case 'execution.cancelled':
      return true;
    default:
      return false;
  }
}

async function applyEffects(tx: Db | Tx, e: ExecutionEvent): Promise<void> {
  switch (e.type) {
    case 'step.completed':
      if (e.result.kind === 'table') await recordArtifact(tx, e.executionId, e.step, e.result, e.quality ? 'published' : 'staged');
      if (e.quality) await recordMaterialization(tx, e.executionId, e.step, e.quality, 'published');
      return;
    case 'step.failed':
      if (e.quality) {
        await recordArtifact(tx, e.executionId, e.step, e.quality.artifact, 'staged');
        await recordMaterialization(tx, e.executionId, e.step, e.quality, 'rejected');
      }
      return;
    case 'execution.completed':
    case 'execution.failed':
    case 'execution.cancelled':
      await tx
        .updateTable('executions')
        .set({
          status: e.type.slice('execution.'.length),
          error: e.type === 'execution.failed' ? JSON.stringify(e.error) : e.type === 'execution.cancelled' ? JSON.stringify({ code: 'E_CANCELLED', message: e.reason }) : null,
          finished_at: e.at,
        })
        .where('id', '=', e.executionId)
        .execute();
      return;
    default:
      return;
  }
}

async function recordArtifact(tx: Db | Tx, executionId: string, step: string, ref: TableRef, state: 'staged' | 'published'): Promise<void> {
  await tx
    .insertInto('artifacts')
    .values({ uri: ref.uri, execution_id: executionId, step, format: ref.format, schema: JSON.stringify(ref.schema), rows: ref.rows, bytes: ref.bytes, sha256: ref.sha256, state })
    .onConflict((oc) => oc.column('uri').doUpdateSet({ state, rows: ref.rows, bytes: ref.bytes, sha256: ref.sha256, schema: JSON.stringify(ref.schema) }))
    .execute();
}

async function recordMaterialization(tx: Db | Tx, executionId: string, step: string, q: QualityReport, status: 'published' | 'rejected'): Promise<void> {
  await tx
    .insertInto('materializations')
    .values({ id: q.materializationId, product_id: q.productId, execution_id: executionId, step, contract_version: q.contractVersion, artifact_uri: q.artifact.uri, status, rows: q.artifact.rows })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  if (q.checks.length > 0) {
    await tx
      .insertInto('quality_results')
      .values(q.checks.map((c) => ({ materialization_id: q.materializationId, product_id: q.productId, check_id: c.id, title: c.title, column_name: c.column ?? null, severity: c.severity, passed: c.passed, observed: c.observed, expected: c.expected, extras: JSON.stringify(c.extras) })))
      .execute();
  }
  if (status === 'published') {
    await tx.updateTable('products').set({ current_materialization_id: q.materializationId, updated_at: sql<Date>`now()` }).where('id', '=', q.productId).execute();
  }
}

