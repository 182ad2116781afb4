/**
 * Secret redaction: what it costs a worker to redact one 64 KB event (an http
 * answer of 1,000 records) with 50 secrets in every form they travel in, beside
 * copying the same event through JSON (what publishing it costs at least) and
 * the exact-string replacement redaction used to be. Also what building the
 * redactor costs, once per worker.
 */
import { randomBytes } from 'node:crypto';
import { secretRedactor } from '../common/secret-redaction.ts';
import { report, type BenchRow } from './report.ts';

function event(): Record<string, unknown> {
  const records = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `customer ${i}`, note: randomBytes(12).toString('base64'), ok: i % 3 === 0 }));
  return { type: 'step.completed', step: 'fetch', result: { kind: 'value', value: records }, durationMs: 12 };
}

/** Mean milliseconds of `runs` calls, after as many to warm up. */
function timed(runs: number, work: () => unknown): number {
  for (let i = 0; i < runs; i++) work();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) work();
  return (performance.now() - t0) / runs;
}

export function redactionBench(runs = 200): void {
  const secrets = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? randomBytes(24).toString('base64url') : `postgres://app:${randomBytes(12).toString('hex')}@db:5432/x`));
  const payload = event();
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  const build = timed(5, () => secretRedactor(secrets));
  const redactor = secretRedactor(secrets);
  const copy = timed(runs, () => JSON.parse(JSON.stringify(payload)));
  const exact = timed(runs, () => {
    let text = JSON.stringify(payload);
    for (const secret of secrets) text = text.split(secret).join('***');
    return text;
  });
  const value = timed(runs, () => redactor.value(payload));
  const text = timed(runs, () => redactor.text(JSON.stringify(payload)));
  const rows: BenchRow[] = [
    { case: 'copy through JSON (baseline)', ms: copy, '× baseline': 1 },
    { case: 'exact strings only (split/join, before)', ms: exact, '× baseline': exact / copy },
    { case: 'every form, the event as a value (strings and keys)', ms: value, '× baseline': value / copy },
    { case: 'every form, the event as JSON text', ms: text, '× baseline': text / copy },
    { case: 'building the redactor (once per worker)', ms: build, '× baseline': build / copy },
  ];
  report('redaction', `one ${Math.round(bytes / 1024)} KB event, ${secrets.length} secrets`, rows, { bytes, secrets: secrets.length, runs });
}
