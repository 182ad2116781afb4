/**
 * A real nats-server of the test's own, with JetStream, on a free loopback port
 * and a store directory of its own, so a test can stop and restart it. A test
 * may add configuration (authorization, TLS, max_payload) and environment
 * variables the configuration reads (`$NAME`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './workspace.ts';

export const NATS_SERVER_BIN = process.env.NOETL_TEST_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface TestNatsServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface NatsServerOptions {
  jetstream?: boolean;
  /** nats-server configuration added to the listen address and store (e.g. an `authorization` block). */
  config?: string;
  /** Environment of the server process, for `$NAME` references in `config`. */
  env?: Record<string, string>;
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<TestNatsServer> {
  if (!fs.existsSync(NATS_SERVER_BIN)) throw new Error(`nats-server not found at ${NATS_SERVER_BIN} (apt-get install nats-server)`);
  const port = await freePort();
  const dir = tempDir('noetl-nats-');
  const store = path.join(dir, 'store');
  let child: ChildProcess | undefined;
  const server: TestNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      const args = ['-a', '127.0.0.1', '-p', String(port), '-sd', store];
      if (options.config !== undefined) {
        const file = path.join(dir, 'nats-server.conf');
        fs.writeFileSync(file, options.config);
        args.push('-c', file);
      }
      if (options.jetstream !== false) args.unshift('-js');
      child = spawn(NATS_SERVER_BIN, args, { stdio: 'ignore', env: { ...process.env, ...options.env } });
      for (let i = 0; i < 100; i++) {
        if (await portOpen(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nats-server did not start on port ${port}`);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    },
    async restart() {
      await server.stop();
      await server.start();
    },
  };
  await server.start();
  return server;
}
