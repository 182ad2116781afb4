/**
 * An event for an execution the server does not know is never dropped
 * silently: after two more chances it is kept in `unknown_events`, as it came,
 * with an error naming its event id, and never delivered again; whatever it
 * holds (a NUL, no event id) can be kept. Executions the server knows carry on.
 * In-process here; over JetStream, tests/integration/nats-security.test.ts
 * sends one from a worker user.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { createLogger, loadConfig } from '../../platform/index.ts';
import { UNKNOWN_EXECUTION_DELIVERIES } from '../../services/orchestrator/supervisor/unknown-events.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('events for an unknown execution', () => {
  const ws = workspace();
  const logs: string[] = [];
  let rt: Runtime;

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/reliability'), path.join(ws.domains, 'reliability'), { recursive: true });
    const log = createLogger({ level: 'warn', write: (line) => logs.push(line) });
    rt = await openRuntime(loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains }), { log });
  });

  after(async () => {
    await rt?.close();
    ws.cleanup();
  });

  it('are kept in unknown_events with an error naming them, after two more chances, and never delivered again', async () => {
    const executionId = randomUUID();
    const eventId = `${executionId}:stray`;
    const at = new Date().toISOString();
    const stray = { type: 'step.completed', step: 'a\u0000b', attempt: 1, result: { kind: 'value', value: 'x\u0000y' }, durationMs: 1, eventId, executionId, at };
    const anonymous = { type: 'step.started', executionId };
    const t0 = Date.now();
    await rt.bus.publish(rt.bus.names.subjects.events(executionId), [stray, anonymous], { msgId: randomUUID() });
    const mine = () => logs.filter((l) => l.includes(executionId)).map((l) => JSON.parse(l) as { level: string; msg: string; events: string[]; delivery?: number });
    const kept = () => rt.database.db.selectFrom('unknown_events').selectAll().where('execution_id', '=', executionId).execute();
    let rows = await kept();
    while (rows.length < 2 && Date.now() - t0 < 15_000) {
      await sleep(100);
      rows = await kept();
    }
    assert.ok(Date.now() - t0 >= 2900, 'handed back after 1 s and 2 s before being kept');
    assert.equal(rows.length, 2, 'both events of the message kept');
    const [completed, started] = [rows.find((r) => r.type === 'step.completed')!, rows.find((r) => r.type === 'step.started')!];
    assert.equal(completed.event_id, eventId);
    assert.deepEqual(JSON.parse(completed.payload), stray, 'kept as it came, NUL included');
    assert.match(started.event_id, /^sha256:[0-9a-f]{64}$/, 'an event without an id is kept under its digest');
    assert.equal(completed.deliveries, UNKNOWN_EXECUTION_DELIVERIES);
    assert.equal(completed.subject, rt.bus.names.subjects.events(executionId));

    await sleep(1500);
    const said = mine();
    assert.deepEqual(said.map((l) => [l.level, l.delivery]), [['warn', 1], ['warn', 2], ['error', undefined]], 'two chances, then one error; never delivered again');
    assert.match(said[2]!.msg, /unknown execution.*kept in the table unknown_events/);
    assert.deepEqual(said[2]!.events, [eventId, started.event_id]);

    // The same event again is kept once; known executions carry on meanwhile.
    const id = await rt.supervisor.startExecution('reliability/chain', { sleep: 20 });
    await rt.bus.publish(rt.bus.names.subjects.events(executionId), [stray], { msgId: randomUUID() });
    assert.equal((await rt.supervisor.waitFor(id)).status, 'completed');
    await sleep(3500);
    const again = await rt.database.db.selectFrom('unknown_events').select('event_id').where('event_id', '=', eventId).execute();
    assert.equal(again.length, 1);
  });
});
