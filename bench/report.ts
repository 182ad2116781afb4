/** Bench output: a plain table on stdout and the same numbers as JSON under bench/results/. */
import fs from 'node:fs';
import path from 'node:path';

export interface BenchRow {
  case: string;
  [metric: string]: string | number;
}

export function report(name: string, description: string, rows: BenchRow[], extra: Record<string, unknown> = {}): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: string | number | undefined): string => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2)) : (v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`\n${name}: ${description}\n`);
  process.stdout.write(line(columns) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n');
  for (const r of rows) process.stdout.write(line(columns.map((c) => cell(r[c]))) + '\n');
  const dir = path.resolve(import.meta.dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ name, description, at: new Date().toISOString(), context: extra, rows }, null, 2));
  process.stdout.write(`(written to ${path.relative(process.cwd(), file)})\n`);
}

/** Median of repeated timings, in milliseconds. */
export async function timeIt(runs: number, fn: () => Promise<void>): Promise<{ median: number; min: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}
