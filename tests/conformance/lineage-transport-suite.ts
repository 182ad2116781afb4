/** The lineage transport port's conformance suite: every adapter delivers every event, whole and in order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepRunEvent, type RunEvent } from '../../lineage/index.ts';
import type { LineageTransport } from '../../platform/index.ts';

export interface TransportAdapter {
  name: string;
  /** A transport and a way to read back what it delivered. */
  open(): Promise<{ transport: LineageTransport; received: () => Promise<unknown[]>; close: () => Promise<void> }>;
}

function events(n: number): RunEvent[] {
  const run = { executionId: '2f1c1c64-5d0e-4d1c-9a43-0c6f1f0a2d11', domain: 'risk', playbook: 'score', step: 's', attempt: 1, toolKind: 'duckdb' };
  return Array.from({ length: n }, (_, i) =>
    stepRunEvent({ ...run, step: `s${i}` }, { eventType: 'COMPLETE', eventTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), inputs: [{ dataset: { namespace: 'noetl://risk', name: `in${i}` } }], output: { dataset: { namespace: 'noetl://risk', name: `out${i}` }, schema: [{ name: 'a', type: 'BIGINT' }], rows: i, bytes: 10 } }),
  );
}

export function lineageTransportConformance(adapter: TransportAdapter): void {
  describe(`lineage transport conformance: ${adapter.name}`, () => {
    it('delivers every event whole, in order', async () => {
      const { transport, received, close } = await adapter.open();
      try {
        const sent = events(5);
        await transport.send(sent.slice(0, 2));
        await transport.send(sent.slice(2));
        const got = await received();
        assert.deepEqual(got, sent);
      } finally {
        await close();
      }
    });

    it('sends nothing for an empty batch', async () => {
      const { transport, received, close } = await adapter.open();
      try {
        await transport.send([]);
        assert.deepEqual(await received(), []);
      } finally {
        await close();
      }
    });
  });
}
