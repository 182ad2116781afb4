/** `noetl server` and `noetl worker`: long-running processes that stop cleanly on SIGTERM or SIGINT. */
import { createLogger, redactUrl, type Config } from '../../platform/index.ts';
import type { Print } from '../progress.ts';
import { openServer, openWorkers } from '../runtime.ts';

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function serverCommand(config: Config, print: Print): Promise<number> {
  const log = createLogger({ level: config.logLevel, secrets: new Set(Object.values(config.secrets)) });
  const server = await openServer(config, log);
  const address = await server.app.listen({ host: config.host, port: config.port });
  const bus = config.natsUrl ? `${config.natsUrl} (deployment ${config.deployment})` : 'in-process';
  print(`noetl server at ${address}; database ${config.databaseUrl ? redactUrl(config.databaseUrl) : 'embedded'}; bus ${bus}; pools ${config.pools.map((p) => p.name).join(', ')}`);
  const signal = await untilSignal();
  print(`${signal}: stopping the server`);
  await server.close();
  return 0;
}

export async function workerCommand(config: Config, pool: string, concurrency: number, print: Print): Promise<number> {
  const log = createLogger({ level: config.logLevel, secrets: new Set(Object.values(config.secrets)) });
  const { workers, close } = await openWorkers(config, log, pool, concurrency);
  print(`noetl worker ${workers.map((w) => w.id).join(', ')} serving pool ${pool} with concurrency ${concurrency}`);
  const signal = await untilSignal();
  print(`${signal}: finishing the steps under way, then stopping`);
  await close();
  print('worker stopped');
  return 0;
}
