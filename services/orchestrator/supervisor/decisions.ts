/**
 * How the supervisor names and records what the engine decides: command ids,
 * the event each decision becomes (its key making a second recording a
 * no-op), what is in flight, and a child execution's id.
 */
import { createHash } from 'node:crypto';
import { unitFields, unitName, type ExecutionEventBody } from '../../../platform/bus/index.ts';
import type { Decision, ExecutionState } from '../engine/engine.ts';

export type Dispatch = Extract<Decision, { type: 'dispatch' }>;

/** `<execution>:<step>[@run][[item]]:<attempt>`: unique per attempt, the message id that de-duplicates it. */
export function commandIdOf(executionId: string, d: Dispatch): string {
  return `${executionId}:${unitName(d)}:${d.attempt}`;
}

/** Everything of an execution dispatched or running: steps, and items of loops. */
export function inFlightUnits(state: ExecutionState): Dispatch[] {
  const out: Dispatch[] = [];
  const busy = (status: string): boolean => status === 'dispatched' || status === 'running';
  for (const step of state.active) {
    const st = state.steps[step]!;
    if (st.loop && st.status === 'running') {
      for (const iteration of [...st.loop.inFlight].sort((a, b) => a - b)) {
        const it = st.loop.iterations[iteration]!;
        out.push({ type: 'dispatch', step, attempt: it.attempt, run: st.run, iteration, ...(it.notBefore ? { notBefore: it.notBefore } : {}) });
      }
    } else if (busy(st.status)) out.push({ type: 'dispatch', step, attempt: st.attempt, run: st.run, ...(st.notBefore ? { notBefore: st.notBefore } : {}) });
  }
  return out;
}

/** A child execution's id, derived from the parent's command id (a UUID-shaped hash). */
export function childIdOf(commandId: string): string {
  const h = createHash('sha256').update(`child:${commandId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The event that records a decision; its key makes recording it twice a no-op. */
export function decisionEvent(executionId: string, d: Decision): { body: ExecutionEventBody; key: string } {
  switch (d.type) {
    case 'skip':
      return d.nth === undefined ? { body: { type: 'step.skipped', step: d.step }, key: `skipped:${d.step}` } : { body: { type: 'step.skipped', step: d.step, nth: d.nth }, key: `skipped:${d.step}:${d.nth}` };
    case 'complete':
      return { body: { type: 'execution.completed' }, key: 'completed' };
    case 'fail':
      return { body: { type: 'execution.failed', error: d.error }, key: 'failed' };
    case 'loop':
      return { body: { type: 'loop.started', step: d.step, ...unitFields(d), items: d.items }, key: `loop:${unitName(d)}` };
    case 'dispatch': {
      const commandId = commandIdOf(executionId, d);
      return { body: { type: 'step.dispatched', step: d.step, attempt: d.attempt, ...unitFields(d), commandId, ...(d.notBefore ? { notBefore: d.notBefore } : {}) }, key: `dispatched:${unitName(d)}:${d.attempt}` };
    }
  }
}
