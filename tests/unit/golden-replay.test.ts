/**
 * Golden event logs, recorded from real executions (tests/fixtures/golden/record.ts),
 * replayed through the engine: at every point where the orchestrator acted, the
 * engine, given only the events before it, decides the same thing; and the
 * replayed final state is the recorded outcome.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXPRESSIONS } from '../../common/expressions.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { compileNet, decide, parsePlaybook, replay, type Decision } from '../../services/orchestrator/index.ts';
import { REPO_ROOT } from '../helpers/workspace.ts';

const dir = path.join(REPO_ROOT, 'tests/fixtures/golden');
const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

function asDecision(e: ExecutionEvent): Decision | undefined {
  switch (e.type) {
    case 'step.dispatched':
      return { type: 'dispatch', step: e.step, attempt: e.attempt, run: e.run ?? 1, ...(e.iteration !== undefined ? { iteration: e.iteration } : {}), ...(e.notBefore ? { notBefore: e.notBefore } : {}) };
    case 'loop.started':
      return { type: 'loop', step: e.step, run: e.run ?? 1, items: e.items };
    case 'step.skipped':
      return { type: 'skip', step: e.step, ...(e.nth !== undefined ? { nth: e.nth } : {}) };
    case 'execution.completed':
      return { type: 'complete' };
    case 'execution.failed':
      return { type: 'fail', error: e.error };
    default:
      return undefined;
  }
}

describe('golden event logs replay to the same decisions', () => {
  it('has golden logs covering fan-out and join, both routes of a router, loops, a sub-playbook, a cycle, retry rules with a jump, retries and a failed gate', () => {
    assert.deepEqual(logs.sort(), ['cycle-retry-jump.json', 'gate-failure.json', 'observability-exclusive-route.json', 'observability-other-route.json', 'retries-then-success.json', 'risk-fan-out-join.json']);
  });

  for (const file of logs) {
    it(file, () => {
      const golden = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { playbook: { domain: string; file: string; source: string }; events: ExecutionEvent[] };
      const parsed = parsePlaybook(golden.playbook.source, golden.playbook.file, golden.playbook.domain, { toolKinds: new Set(['duckdb', 'noop']), products: new Set(golden.events.flatMap(productsOf)) });
      assert.deepEqual(parsed.diagnostics, []);
      const net = compileNet(parsed.playbook!);
      let checked = 0;
      golden.events.forEach((event, i) => {
        const recorded = asDecision(event);
        if (!recorded || i === 0) return;
        const state = replay(net, golden.events.slice(0, i), EXPRESSIONS)!;
        assert.deepEqual(decide(net, state, EXPRESSIONS).filter((d) => JSON.stringify(d) === JSON.stringify(recorded)), [recorded], `event ${i} (${event.type}${'step' in event ? ` ${event.step}` : ''}) is among the engine's decisions`);
        checked++;
      });
      assert.ok(checked >= 3, 'the log has orchestrator decisions to check');
      const final = replay(net, golden.events, EXPRESSIONS)!;
      const last = golden.events.at(-1)!;
      assert.equal(final.status, last.type === 'execution.completed' ? 'completed' : 'failed');
      assert.deepEqual(decide(net, final, EXPRESSIONS), [], 'nothing left to decide');
    });
  }
});

function productsOf(e: ExecutionEvent): string[] {
  return e.type === 'step.completed' || e.type === 'step.failed' ? (e.quality ? [e.quality.productId] : []) : [];
}
