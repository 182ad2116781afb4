/** Read-side queries of the catalog: products with their schema, versions and quality. */
import { NoetlError } from '../../../common/errors.ts';
import type { Contract } from '../../../contracts/index.ts';
import { productDataset, productOf } from '../../../lineage/index.ts';
import { lineage, type Db } from '../../../platform/index.ts';

export interface QualitySummary {
  materializationId: string;
  status: 'published' | 'rejected';
  passed: boolean;
  at: string;
  checks: { id: string; title: string; column: string | null; severity: string; passed: boolean; observed: number | null; expected: string }[];
}

export interface CurrentVersion {
  materializationId: string;
  executionId: string;
  contractVersion: string;
  rows: number;
  uri: string;
  publishedAt: string;
}

export async function listDomains(db: Db): Promise<{ name: string; description: string | null; owners: string[] }[]> {
  const rows = await db.selectFrom('domains').select(['name', 'description', 'owners']).orderBy('name').execute();
  return rows.map((r) => ({ ...r, owners: r.owners }));
}

export async function listProducts(db: Db, domain?: string) {
  let q = db.selectFrom('products').select(['id', 'domain', 'name', 'description', 'owners', 'status', 'contract_version']).orderBy('id');
  if (domain) q = q.where('domain', '=', domain);
  const products = await q.execute();
  return Promise.all(
    products.map(async (p) => {
      const [current, quality] = await Promise.all([currentVersion(db, p.id), lastQuality(db, p.id)]);
      return {
        id: p.id,
        domain: p.domain,
        name: p.name,
        description: p.description,
        owners: p.owners,
        status: p.status,
        contractVersion: p.contract_version,
        currentVersion: current,
        lastQuality: quality && { materializationId: quality.materializationId, status: quality.status, passed: quality.passed, at: quality.at, failed: quality.checks.filter((c) => !c.passed).map((c) => c.id) },
      };
    }),
  );
}

export async function getProduct(db: Db, id: string) {
  const p = await db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
  if (!p) throw new NoetlError('E_PRODUCT_NOT_FOUND', `no product "${id}"`);
  const contract = await db.selectFrom('contract_versions').select(['body', 'file']).where('product_id', '=', id).where('version', '=', p.contract_version).executeTakeFirstOrThrow();
  const body = contract.body as Contract;
  const [current, quality, versions] = await Promise.all([
    currentVersion(db, id),
    lastQuality(db, id),
    db.selectFrom('contract_versions').select(['version', 'created_at']).where('product_id', '=', id).orderBy('created_at', 'desc').execute(),
  ]);
  return {
    id: p.id,
    domain: p.domain,
    name: p.name,
    description: p.description,
    status: p.status,
    owners: p.owners,
    team: body.team,
    contract: { version: p.contract_version, file: contract.file, versions: versions.map((v) => v.version) },
    schema: body.properties.map((c) => ({ name: c.name, description: c.description ?? null, logicalType: c.logicalType, physicalType: c.physicalType ?? null, required: c.required, unique: c.unique, primaryKey: c.primaryKey, classification: c.classification ?? null, relationships: c.relationships.map((r) => r.to) })),
    sla: (body.raw.slaProperties as unknown[] | undefined) ?? [],
    currentVersion: current,
    lastQuality: quality,
    lineage: await productLineage(db, id),
  };
}

/** The products upstream and downstream of a product, from the lineage graph. */
export async function productLineage(db: Db, id: string, depth = 20): Promise<{ upstream: string[]; downstream: string[]; partial: boolean }> {
  const answer = await lineage(db, productDataset(id), { direction: 'both', depth });
  const products = (dir: 'upstream' | 'downstream'): string[] => answer.nodes.filter((n) => n.direction === dir).flatMap((n) => productOf(n) ?? []);
  return { upstream: products('upstream'), downstream: products('downstream'), partial: answer.partial.length > 0 };
}

async function currentVersion(db: Db, productId: string): Promise<CurrentVersion | null> {
  const row = await db
    .selectFrom('products as p')
    .innerJoin('materializations as m', 'm.id', 'p.current_materialization_id')
    .select(['m.id', 'm.execution_id', 'm.contract_version', 'm.rows', 'm.artifact_uri', 'm.created_at'])
    .where('p.id', '=', productId)
    .executeTakeFirst();
  if (!row) return null;
  return { materializationId: row.id, executionId: row.execution_id, contractVersion: row.contract_version, rows: Number(row.rows), uri: row.artifact_uri, publishedAt: new Date(row.created_at).toISOString() };
}

async function lastQuality(db: Db, productId: string): Promise<QualitySummary | null> {
  const m = await db.selectFrom('materializations').select(['id', 'status', 'created_at']).where('product_id', '=', productId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!m) return null;
  const checks = await db.selectFrom('quality_results').selectAll().where('materialization_id', '=', m.id).orderBy('id').execute();
  return {
    materializationId: m.id,
    status: m.status,
    passed: m.status === 'published',
    at: new Date(m.created_at).toISOString(),
    checks: checks.map((c) => ({ id: c.check_id, title: c.title, column: c.column_name, severity: c.severity, passed: c.passed, observed: c.observed === null ? null : Number(c.observed), expected: c.expected })),
  };
}

type StepSummary = {
  name: string;
  status: string;
  attempt: number;
  run?: number;
  worker?: string;
  durationMs?: number;
  result?: unknown;
  error?: unknown;
  /** What the step's process printed (redacted), e.g. a python script. */
  output?: unknown;
  /** For a loop: how many items there are, and where they stand. */
  items?: { total: number; completed: number; failed: number };
};

export async function getExecution(db: Db, id: string) {
  const e = await db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!e) throw new NoetlError('E_EXECUTION_NOT_FOUND', `no execution "${id}"`);
  const events = await db.selectFrom('events').select(['seq', 'event_id', 'type', 'step', 'payload', 'at']).where('execution_id', '=', id).orderBy('seq').execute();
  const children = await db.selectFrom('executions').select(['id', 'playbook_ref', 'status']).where('parent_id', '=', id).orderBy('started_at').execute();
  return {
    id: e.id,
    playbook: e.playbook_ref,
    status: e.status,
    workload: e.workload,
    error: e.error,
    parent: e.parent_command ? { executionId: e.parent_command.executionId, step: e.parent_command.step } : null,
    children: children.map((c) => ({ id: c.id, playbook: c.playbook_ref, status: c.status })),
    startedAt: new Date(e.started_at).toISOString(),
    finishedAt: e.finished_at ? new Date(e.finished_at).toISOString() : null,
    steps: summariseSteps(events.map((ev) => ({ type: ev.type, step: ev.step, payload: ev.payload }))),
    events: events.map((ev) => ({ seq: Number(ev.seq), id: ev.event_id, type: ev.type, step: ev.step, at: new Date(ev.at).toISOString() })),
  };
}

type StepPayload = { attempt?: number; run?: number; iteration?: number; items?: unknown[]; worker?: string; durationMs?: number; result?: unknown; error?: unknown; output?: unknown };

/** Where each step stands, from its events: the latest run and attempt; a loop's items counted. */
function summariseSteps(events: { type: string; step: string | null; payload: StepPayload }[]): StepSummary[] {
  const steps = new Map<string, StepSummary>();
  const items = new Map<string, string[]>();
  for (const { type, step, payload: p } of events) {
    if (!step) continue;
    const s = steps.get(step) ?? { name: step, status: 'waiting', attempt: 0 };
    steps.set(step, s);
    if (type === 'loop.started') {
      s.status = 'running';
      s.run = p.run ?? 1;
      items.set(step, (p.items ?? []).map(() => 'waiting'));
      if (p.items?.length === 0) s.status = 'completed';
      continue;
    }
    const status = type.replace('step.', '');
    if (p.iteration !== undefined) {
      const list = items.get(step) ?? [];
      list[p.iteration] = status;
      const completed = list.filter((x) => x === 'completed').length;
      const failed = list.filter((x) => x === 'failed').length;
      s.items = { total: list.length, completed, failed };
      s.status = completed === list.length ? 'completed' : failed > 0 ? 'failed' : 'running';
      continue;
    }
    s.status = status;
    if (p.run !== undefined) s.run = p.run;
    if (p.attempt !== undefined) s.attempt = p.attempt;
    if (p.worker !== undefined) s.worker = p.worker;
    if (p.durationMs !== undefined) s.durationMs = p.durationMs;
    if (p.result !== undefined) s.result = p.result;
    if (p.error !== undefined) s.error = p.error;
    if (p.output !== undefined) s.output = p.output;
  }
  return [...steps.values()];
}

export async function listExecutions(db: Db, limit = 50) {
  const rows = await db.selectFrom('executions').select(['id', 'playbook_ref', 'status', 'started_at', 'finished_at']).orderBy('started_at', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, playbook: r.playbook_ref, status: r.status, startedAt: new Date(r.started_at).toISOString(), finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null }));
}

/** Every build of a product, newest first: published or rejected, with its failed checks. */
export async function productHistory(db: Db, id: string, limit = 50) {
  await db.selectFrom('products').select('id').where('id', '=', id).executeTakeFirstOrThrow().catch(() => {
    throw new NoetlError('E_PRODUCT_NOT_FOUND', `no product "${id}"`);
  });
  const current = await db.selectFrom('products').select('current_materialization_id').where('id', '=', id).executeTakeFirst();
  const rows = await db
    .selectFrom('materializations')
    .select(['id', 'execution_id', 'step', 'contract_version', 'status', 'rows', 'created_at'])
    .where('product_id', '=', id)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const failed = rows.length === 0 ? [] : await db.selectFrom('quality_results').select(['materialization_id', 'check_id', 'severity']).where('materialization_id', 'in', rows.map((r) => r.id)).where('passed', '=', false).execute();
  return {
    product: id,
    builds: rows.map((r) => ({
      materializationId: r.id,
      executionId: r.execution_id,
      step: r.step,
      contractVersion: r.contract_version,
      status: r.status,
      current: r.id === current?.current_materialization_id,
      rows: Number(r.rows),
      at: new Date(r.created_at).toISOString(),
      failedChecks: failed.filter((f) => f.materialization_id === r.id).map((f) => ({ id: f.check_id, severity: f.severity })),
    })),
  };
}

/** One check's results over the builds of a product, newest first. */
export async function checkHistory(db: Db, productId: string, checkId: string, limit = 100) {
  const rows = await db
    .selectFrom('quality_results as q')
    .innerJoin('materializations as m', 'm.id', 'q.materialization_id')
    .select(['q.materialization_id', 'q.title', 'q.column_name', 'q.severity', 'q.passed', 'q.observed', 'q.expected', 'q.created_at', 'm.status', 'm.contract_version'])
    .where('q.product_id', '=', productId)
    .where('q.check_id', '=', checkId)
    .orderBy('q.created_at', 'desc')
    .orderBy('q.id', 'desc')
    .limit(limit)
    .execute();
  if (rows.length === 0) throw new NoetlError('E_PRODUCT_NOT_FOUND', `no results of check "${checkId}" for product "${productId}"`);
  return {
    product: productId,
    check: checkId,
    title: rows[0]!.title,
    column: rows[0]!.column_name,
    results: rows.map((r) => ({ materializationId: r.materialization_id, passed: r.passed, observed: r.observed === null ? null : Number(r.observed), expected: r.expected, severity: r.severity, build: r.status, contractVersion: r.contract_version, at: new Date(r.created_at).toISOString() })),
  };
}
