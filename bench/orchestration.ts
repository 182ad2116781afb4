/**
 * Orchestration overhead: a 1,000-step chain and a 1,000-way fan-out with a
 * join of noop steps, on the in-process bus and on JetStream, beside a raw
 * JetStream publish → pull → ack round trip measured in the same run.
 * Targets (issue 3): per-step overhead ≤ 2× the raw round trip; ≥ 1,000 noop
 * steps/s through the fan-out over JetStream. The database is PostgreSQL when
 * NOETL_BENCH_DATABASE_URL (default: the local server) answers, else embedded.
 * Beside them, the floor of a chain that commits each step to PostgreSQL before
 * sending the next command, with no noetl code at all; and a 10,000-item loop,
 * whose cost per item should not grow with the number of items.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { loadConfig, type Config } from '../platform/index.ts';
import { openRuntime } from '../cli/runtime.ts';
import { freshBenchDatabase } from './fresh-database.ts';
import { report } from './report.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startNats(dir: string): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn('/usr/sbin/nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', path.join(dir, 'nats')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (open) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, stop: () => child.kill() };
}


function writeDomain(root: string, steps: number): void {
  const dir = path.join(root, 'domains', 'bench');
  fs.mkdirSync(path.join(dir, 'playbooks'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'domain.yaml'), 'owners: [bench@example.com]\n');
  const chain = Array.from({ length: steps }, (_, i) => `  - { step: s${i}, tool: { kind: noop }${i + 1 < steps ? `, next: [{ step: s${i + 1} }]` : ''} }`);
  fs.writeFileSync(path.join(dir, 'playbooks', 'chain.yaml'), `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: chain }\nworkflow:\n${chain.join('\n')}\n`);
  const branches = Array.from({ length: steps }, (_, i) => `  - { step: b${i}, tool: { kind: noop }, next: [{ step: join }] }`);
  const arcs = Array.from({ length: steps }, (_, i) => `{ step: b${i} }`).join(', ');
  fs.writeFileSync(
    path.join(dir, 'playbooks', 'fan_out.yaml'),
    `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: fan_out }\nworkflow:\n  - { step: begin, tool: { kind: noop }, next: [${arcs}] }\n${branches.join('\n')}\n  - { step: join, tool: { kind: noop } }\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'playbooks', 'loop.yaml'),
    `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: loop }\nworkload: { n: ${steps * LOOP_ITEMS_PER_STEP} }\nworkflow:\n  - step: each\n    loop: { in: "{{ range(workload.n) | list }}", iterator: i, max_in_flight: 64 }\n    tool: { kind: noop }\n`,
  );
}

/** The loop case runs this many items per step of the chain (10,000 by default). */
const LOOP_ITEMS_PER_STEP = 10;

async function spawnWorker(config: Config, root: string): Promise<ChildProcess> {
  const env = { ...process.env, NOETL_NATS_URL: config.natsUrl, NOETL_POOLS: 'default:cpu@1000', NOETL_HOME: config.home, NOETL_DOMAINS_DIR: config.domainsDir, NOETL_LOG_LEVEL: 'error' };
  const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../bin/noetl.mjs'), 'worker', '--concurrency', '32'], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('serving pool') && resolve());
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
  });
  return child;
}

async function rawRoundTrip(url: string, n: number): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw'] });
  await jsm.consumers.add('BENCH_RAW', { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);
  const consumer = await js.consumers.get('BENCH_RAW', 'raw');
  const once = async (): Promise<void> => {
    await js.publish('bench.raw', 'x');
    const m = await consumer.next({ expires: 5000 });
    await m!.ackAck();
  };
  for (let i = 0; i < 50; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  const ms = (performance.now() - t0) / n;
  await nc.close();
  return ms;
}

/**
 * The floor of any chain that logs each step before acting on it: per step, one
 * PostgreSQL commit, a command published and pulled, an outcome published and
 * pulled back, both acked. No noetl code, worker in the same process: what the
 * design cannot go below on this machine.
 */
async function loggedChainFloor(url: string, dbUrl: string | undefined, n: number): Promise<number | undefined> {
  if (dbUrl === undefined) return undefined;
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  await db.query('CREATE TABLE floor_log (id text PRIMARY KEY, payload jsonb NOT NULL)');
  const orchestrator = await connect({ servers: url });
  const worker = await connect({ servers: url });
  const jsm = await jetstreamManager(orchestrator);
  await jsm.streams.add({ name: 'FLOOR_COMMANDS', subjects: ['floor.commands'], retention: RetentionPolicy.Workqueue });
  await jsm.streams.add({ name: 'FLOOR_EVENTS', subjects: ['floor.events'] });
  await jsm.consumers.add('FLOOR_COMMANDS', { durable_name: 'w', ack_policy: AckPolicy.Explicit });
  await jsm.consumers.add('FLOOR_EVENTS', { durable_name: 'o', ack_policy: AckPolicy.Explicit });
  const wjs = jetstream(worker);
  const commands = await (await wjs.consumers.get('FLOOR_COMMANDS', 'w')).consume();
  const serving = (async () => {
    for await (const m of commands) {
      await wjs.publish('floor.events', m.data, { msgID: `done-${m.seq}` });
      m.ack();
    }
  })();
  const js = jetstream(orchestrator);
  const events = await js.consumers.get('FLOOR_EVENTS', 'o');
  const step = async (i: number): Promise<void> => {
    await db.query('INSERT INTO floor_log VALUES ($1, $2)', [`s${i}`, JSON.stringify({ step: `s${i}`, type: 'step.completed' })]);
    await js.publish('floor.commands', JSON.stringify({ step: `s${i + 1}` }), { msgID: `cmd-${i}` });
    const m = await events.next({ expires: 5000 });
    m!.ack();
  };
  for (let i = 0; i < 50; i++) await step(-i - 1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await step(i);
  const ms = (performance.now() - t0) / n;
  commands.stop();
  await serving;
  await Promise.all([orchestrator.close(), worker.close(), db.end()]);
  return ms;
}

export async function orchestrationBench(steps: number): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-bench-'));
  writeDomain(root, steps);
  const nats = await startNats(root);
  const rows = [];
  let dbKind = 'embedded PGlite';
  try {
    const rtt = await rawRoundTrip(nats.url, 1000);
    rows.push({ case: 'raw JetStream publish → pull → ack (baseline)', bus: 'JetStream', 'ms/step': rtt, 'steps/s': 1000 / rtt, 'x baseline': 1 });
    const floorDb = await freshBenchDatabase('noetl_bench_floor');
    try {
      const floor = await loggedChainFloor(nats.url, floorDb.url, 1000);
      if (floor !== undefined) rows.push({ case: 'floor: commit + command + outcome, no noetl', bus: 'JetStream', 'ms/step': floor, 'steps/s': 1000 / floor, 'x baseline': floor / rtt });
    } finally {
      await floorDb.drop();
    }
    for (const bus of ['in-process', 'JetStream'] as const) {
      const db = await freshBenchDatabase('noetl_bench');
      dbKind = db.kind;
      const config = loadConfig({
        NOETL_HOME: path.join(root, `home-${bus}`),
        NOETL_DOMAINS_DIR: path.join(root, 'domains'),
        NOETL_DATABASE_URL: db.url,
        NOETL_NATS_URL: bus === 'JetStream' ? nats.url : undefined,
        NOETL_WORKER_CONCURRENCY: '32',
        NOETL_MAX_IN_FLIGHT: '1000',
        NOETL_POOLS: 'default:cpu@1000',
        NOETL_LOG_LEVEL: 'error',
      });
      // Over JetStream the workers run as a separate process, as deployed; in-process, all in one.
      const rt = await openRuntime(config, { workers: bus === 'in-process' });
      const worker = bus === 'JetStream' ? await spawnWorker(config, root) : undefined;
      try {
        const cases = [['chain', steps, `${steps.toLocaleString('en-US')}-step chain`], ['fan_out', steps + 2, `${(steps + 2).toLocaleString('en-US')}-step fan-out + join`], ['loop', steps * LOOP_ITEMS_PER_STEP, `${(steps * LOOP_ITEMS_PER_STEP).toLocaleString('en-US')}-item loop (64 in flight)`]] as const;
        for (const [name, total, label] of cases) {
          const t0 = performance.now();
          const id = await rt.supervisor.startExecution(`bench/${name}`);
          const state = await rt.supervisor.waitFor(id);
          const ms = performance.now() - t0;
          if (state.status !== 'completed') throw new Error(`bench/${name} ${state.status}: ${state.error?.message}`);
          rows.push({ case: label, bus, 'ms/step': ms / total, 'steps/s': (total * 1000) / ms, 'x baseline': ms / total / rtt });
        }
      } finally {
        worker?.kill();
        await rt.close();
        await db.drop();
      }
    }
  } finally {
    nats.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
  report('orchestration', `noop steps end to end (event log on ${dbKind}); baseline is one raw JetStream round trip`, rows, { steps, targets: { perStepOverhead: '<= 2x raw round trip', fanOutJetStream: '>= 1000 steps/s' } });
}
