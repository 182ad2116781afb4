/**
 * A generated corpus of bad HTTP requests (tests/helpers/bad-requests.ts)
 * against the real registry on the real embedded runtime, on PGlite and on
 * PostgreSQL: no answer is 5xx, every answer is `{error: {code, message}}` with
 * a code of the catalogue, and no table gains or loses a row. The closing line
 * reports cases tried, 5xx seen, uncoded answers and tables changed: all must
 * be 0 (cases at least 500 per database). A failure prints the seed and the
 * first offending requests.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { ERROR_CATALOGUE } from '../../common/errors.ts';
import type { Db } from '../../platform/index.ts';
import { badRequests, type BadRequest } from '../helpers/bad-requests.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openRegistry, type TestRegistry } from '../helpers/registry.ts';

const CASES = 600;

async function rowCounts(db: Db): Promise<Map<string, number>> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`.execute(db);
  const counts = new Map<string, number>();
  for (const { table_name: table } of tables.rows) {
    const row = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db);
    counts.set(table, Number(row.rows[0]!.n));
  }
  return counts;
}

/** Why an answer is not a coded client error, or undefined. */
function uncoded(status: number, body: string, method: string): string | undefined {
  if (status < 400 || status >= 500) return `status ${status}`;
  if (method === 'HEAD') return undefined;
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== 'string' || !(error.code in ERROR_CATALOGUE)) return `code ${String(error?.code)}`;
    if (typeof error.message !== 'string' || error.message === '') return 'no message';
    return undefined;
  } catch {
    return `not JSON: ${body.slice(0, 80)}`;
  }
}

function describeCase(request: BadRequest): string {
  const payload = 'raw' in request ? '' : request.inject.payload;
  const text = 'raw' in request ? JSON.stringify(request.raw) : `${request.inject.method} ${request.inject.url as string} ${typeof payload === 'string' ? payload : ''}`;
  return `${request.kind}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
}

for (const database of ['embedded', 'postgres'] as const) {
  describe(`bad-request corpus (${database})`, () => {
    let registry: TestRegistry;
    let port: number;
    let finishedExecution: string;

    before(async () => {
      registry = await openRegistry(database);
      await registry.app.listen({ host: '127.0.0.1', port: 0 });
      port = (registry.app.server.address() as AddressInfo).port;
      // Something to point at: a finished execution, published products, lineage.
      finishedExecution = await registry.rt.supervisor.startExecution('risk/score_applications', {});
      assert.equal((await registry.rt.supervisor.waitFor(finishedExecution)).status, 'completed');
    });
    after(async () => {
      await registry?.close();
    });

    it(`answers ${CASES} generated bad requests with coded 4xx and writes nothing`, async () => {
      const seed = Date.now() ^ (Math.random() * 0x7fffffff);
      const requests = fc.sample(badRequests({ finishedExecution }), { numRuns: CASES, seed });
      const before = await rowCounts(registry.rt.database.db);
      let serverErrors = 0;
      const offending: string[] = [];
      const kinds = new Map<string, number>();
      for (const request of requests) {
        kinds.set(request.kind, (kinds.get(request.kind) ?? 0) + 1);
        const answer = 'raw' in request
          ? await rawRequest(port, request.raw).then((r) => ({ status: r.status, body: r.body, method: request.raw.split(' ')[0]! }))
          : await registry.app.inject(request.inject).then((r) => ({ status: r.statusCode, body: r.body, method: String(request.inject.method) }));
        if (answer.status >= 500) serverErrors++;
        const problem = uncoded(answer.status, answer.body, answer.method);
        if (problem) offending.push(`${problem} <- ${describeCase(request)}`);
      }
      const afterwards = await rowCounts(registry.rt.database.db);
      const changed = [...before].filter(([table, n]) => afterwards.get(table) !== n).map(([table, n]) => `${table} ${n} -> ${afterwards.get(table)}`);
      const kindList = [...kinds].sort().map(([kind, n]) => `${kind} ${n}`).join(', ');
      console.log(`bad-request corpus (${database}, seed ${seed}): ${requests.length} cases tried, ${serverErrors} 5xx, ${offending.length} uncoded answers, ${changed.length} tables changed [${kindList}]`);
      assert.ok(requests.length >= 500);
      assert.ok(kinds.size >= 25, `nearly every kind of bad request was tried (${kinds.size})`);
      assert.equal(before.size >= 15, true, 'every table was counted');
      assert.deepEqual(offending.slice(0, 10), [], `seed ${seed}`);
      assert.equal(serverErrors, 0);
      assert.deepEqual(changed, [], `seed ${seed}`);
    });
  });
}
