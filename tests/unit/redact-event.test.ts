/** What a worker publishes is redacted in its content (results, output, errors, quality, lineage facets), never in its identity. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretRedactor } from '../../common/secret-redaction.ts';
import type { RunEvent } from '../../lineage/index.ts';
import type { ExecutionEvent, TableRef } from '../../platform/bus/messages.ts';
import { redactEvent } from '../../services/worker/redact-event.ts';

const SECRET = 'load-s3cr3t';
const table: TableRef = { kind: 'table', uri: 'file:///store/staging/e/load-s3cr3t.parquet', format: 'parquet', schema: [{ name: 'id', type: 'BIGINT' }], rows: 3, bytes: 100, sha256: 'ab'.repeat(32) };

function runEvent(): RunEvent {
  return {
    eventType: 'FAIL',
    eventTime: '2026-01-01T00:00:00.000Z',
    producer: 'https://noetl.dev',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: 'load-s3cr3t-run', facets: { errorMessage: { _producer: 'p', _schemaURL: 's', message: `auth failed for ${Buffer.from(`u:${SECRET}`).toString('base64')}` } } },
    job: { namespace: 'noetl://shop', name: 'orders.load', facets: { sql: { _producer: 'p', _schemaURL: 's', query: `SELECT * FROM t WHERE key = '${SECRET}'` } } },
    inputs: [],
    outputs: [],
  };
}

describe('event redaction', () => {
  const redactor = secretRedactor([SECRET]);

  it('redacts a failed step: its error, output, quality checks and every lineage facet', () => {
    const event = {
      type: 'step.failed',
      step: 'load-s3cr3t',
      attempt: 1,
      error: { code: 'E_TOOL_SQL', message: `bad value ${encodeURIComponent(SECRET)}`, retryable: false },
      output: { stdout: `printed ${SECRET}`, stderr: '' },
      quality: {
        productId: 'shop.orders',
        contractVersion: '1.0.0',
        passed: false,
        checks: [{ id: 'key_unique', title: 'key is unique', column: 'key', severity: 'error', passed: false, observed: 2, expected: '0', extras: {}, samples: [{ key: SECRET }] }],
        conformance: [],
        artifact: table,
        materializationId: 'e1.load-s3cr3t.1',
      },
      durationMs: 5,
      eventId: 'c1:failed',
      executionId: 'e1',
      at: '2026-01-01T00:00:00.000Z',
      lineage: [runEvent()],
    } as ExecutionEvent;
    const out = redactEvent(event, redactor);
    const identity = ['"step":"load-s3cr3t"', '"runId":"load-s3cr3t-run"', '"uri":"file:///store/staging/e/load-s3cr3t.parquet"', '"materializationId":"e1.load-s3cr3t.1"'];
    assert.ok(!identity.reduce((text, kept) => text.replace(kept, ''), JSON.stringify(out)).includes('s3cr3t'));
    assert.deepEqual(out.type === 'step.failed' && out.quality?.checks[0]?.samples, [{ key: '***' }]);
    assert.equal(out.type === 'step.failed' && out.error.message, 'bad value ***');
    assert.equal(out.type === 'step.failed' && out.output?.stdout, 'printed ***');
    const run = out.lineage![0]!;
    assert.equal((run.job.facets!.sql as unknown as { query: string }).query, "SELECT * FROM t WHERE key = '***'");
    // The characters left around *** are those the bytes around the secret ("u:") decide, and the padding.
    assert.match((run.run.facets!.errorMessage as unknown as { message: string }).message, /^auth failed for [A-Za-z0-9+/]{0,2}\*\*\*=*$/);
    // Identity stays: the supervisor matches on it.
    assert.deepEqual([out.eventId, out.executionId, out.at, out.type === 'step.failed' && out.step, run.run.runId, run.eventTime], ['c1:failed', 'e1', event.at, 'load-s3cr3t', 'load-s3cr3t-run', '2026-01-01T00:00:00.000Z']);
    assert.equal(event.type === 'step.failed' && event.error.message, `bad value ${encodeURIComponent(SECRET)}`, 'the input is not changed');
  });

  it('redacts value results, in loops too, and leaves table references (noetl\'s own files) as they are', () => {
    const event = { type: 'step.completed', step: 's', attempt: 1, durationMs: 1, eventId: 'x', executionId: 'e', at: 't', result: { kind: 'list', items: [{ kind: 'value', value: { token: SECRET } }, table] } } as ExecutionEvent;
    const out = redactEvent(event, redactor);
    assert.deepEqual(out.type === 'step.completed' && out.result, { kind: 'list', items: [{ kind: 'value', value: { token: '***' } }, table] });
  });

  it('returns the event itself when the worker holds no secret', () => {
    const event = { type: 'step.completed', step: 's', attempt: 1, durationMs: 1, eventId: 'x', executionId: 'e', at: 't', result: { kind: 'value', value: SECRET } } as ExecutionEvent;
    assert.equal(redactEvent(event, secretRedactor([])), event);
  });
});
