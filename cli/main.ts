#!/usr/bin/env node
/**
 * `noetl`: a thin command line over the services. Configuration comes from the
 * environment (see the README); flags override the few things a command needs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { asNoetlError, NoetlError } from '../common/errors.ts';
import { loadConfig, type Config } from '../platform/index.ts';
import { buildPlaybook } from './commands/build.ts';
import { checkCommand } from './commands/check.ts';
import { lineageCommand } from './commands/lineage.ts';
import type { LineageFormat } from './lineage/render.ts';
import { contractsDiffCommand, contractsExportCommand, contractsTestCommand } from './commands/contracts.ts';
import type { CheckFormat } from './contracts/report-formats.ts';
import { devCommand } from './commands/dev.ts';
import { cancelCommand, logsCommand, runRemote, statusCommand } from './commands/remote.ts';
import { serverCommand, workerCommand } from './commands/processes.ts';
import { openRuntime } from './runtime.ts';

const print = (line: string): void => {
  process.stdout.write(line + '\n');
};

function parseSet(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${value}"`);
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare string
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const program = new Command('noetl')
    .description('noetl: a data-product mesh registry with lineage and quality gates')
    .showHelpAfterError()
    .exitOverride();
  let exitCode = 0;

  program
    .command('check')
    .description('validate every contract, playbook and domain file; print file:line:col: code: message per problem')
    .option('--domains <dir>', 'domains folder', config.domainsDir)
    .option('--base <git-ref>', 'also classify every contract changed since this git revision (breaking changes, versions, impact)')
    .option('--server <url>', 'also take downstream products from this registry\'s lineage graph')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'github', 'markdown', 'json']).default('text'))
    .action(async (opts: { domains: string; format: CheckFormat; base?: string; server?: string }) => {
      exitCode = await checkCommand(opts.domains, opts, print);
    });

  program
    .command('run')
    .description('run one playbook (<domain>/<playbook>) on the embedded runtime, with live progress')
    .argument('<playbook>', 'e.g. risk/score_applications')
    .option('--set <key=value>', 'override a workload value (repeatable; JSON values allowed)', parseSet, {})
    .option('--server <url>', 'run on a noetl server instead of in this process')
    .action(async (ref: string, opts: { set: Record<string, unknown>; server?: string }) => {
      if (!/^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/.test(ref)) throw new NoetlError('E_REQUEST_INVALID', `"${ref}" is not <domain>/<playbook>, e.g. risk/score_applications`);
      if (opts.server) {
        exitCode = await runRemote(opts.server, ref, opts.set, print);
        return;
      }
      exitCode = await withRuntime(config, async (rt) => {
        const r = await buildPlaybook(rt, ref, opts.set, print);
        if (r.state.error) print(`  ${r.state.error.code}: ${r.state.error.message.split('\n').join('\n  ')}`);
        return r.state.status === 'completed' ? 0 : 1;
      });
    });

  program
    .command('dev')
    .description('build every domain on the embedded runtime, then serve the registry (NOETL_PORT, default 8080)')
    .option('--port <port>', 'HTTP port', (v) => Number(v))
    .option('--no-serve', 'build and exit without serving')
    .action(async (opts: { port?: number; serve: boolean }) => {
      const cfg = opts.port === undefined ? config : { ...config, port: opts.port };
      exitCode = await withRuntime(cfg, (rt) => devCommand(rt, print, { serve: opts.serve }));
    });

  program
    .command('server')
    .description('run the registry and orchestrator; workers run as `noetl worker` processes (needs NOETL_NATS_URL)')
    .option('--port <port>', 'HTTP port', (v) => Number(v))
    .action(async (opts: { port?: number }) => {
      exitCode = await serverCommand(opts.port === undefined ? config : { ...config, port: opts.port }, print);
    });

  program
    .command('worker')
    .description('run a worker process pulling steps of one pool from JetStream (needs NOETL_NATS_URL); no HTTP port')
    .option('--pool <name>', 'pool to serve (declared in NOETL_POOLS)', 'default')
    .option('--concurrency <n>', 'steps run at once', (v) => Number(v), config.workerConcurrency)
    .action(async (opts: { pool: string; concurrency: number }) => {
      exitCode = await workerCommand(config, opts.pool, opts.concurrency, print);
    });

  const serverOption = ['--server <url>', 'noetl server URL', config.serverUrl] as const;
  program
    .command('status')
    .description('show an execution and its steps')
    .argument('<execution>')
    .option(...serverOption)
    .action(async (id: string, opts: { server: string }) => {
      exitCode = await statusCommand(opts.server, id, print);
    });
  program
    .command('cancel')
    .description('cancel an execution; running steps are told to stop')
    .argument('<execution>')
    .option(...serverOption)
    .action(async (id: string, opts: { server: string }) => {
      exitCode = await cancelCommand(opts.server, id, print);
    });
  program
    .command('logs')
    .description("print an execution's events; -f follows them live until it ends")
    .argument('<execution>')
    .option('-f, --follow', 'follow live', false)
    .option(...serverOption)
    .action(async (id: string, opts: { follow: boolean; server: string }) => {
      exitCode = await logsCommand(opts.server, id, opts.follow, print);
    });

  program
    .command('lineage')
    .description('what feeds a product, dataset or column, and what it feeds')
    .argument('<target>', 'risk.application_scores | risk.application_scores.score | s3://lake/gold/customer_360[#column]')
    .option('--upstream', 'only what feeds it')
    .option('--downstream', 'only what it feeds')
    .option('--depth <n>', 'levels to follow', (v) => Number(v), 10)
    .addOption(new Option('--format <format>', 'output format').choices(['tree', 'mermaid', 'dot', 'json']).default('tree'))
    .option('--server <url>', 'ask a running registry instead of the local database')
    .action(async (target: string, opts: { upstream?: boolean; downstream?: boolean; depth: number; format: LineageFormat; server?: string }) => {
      const direction = opts.upstream && !opts.downstream ? 'upstream' : opts.downstream && !opts.upstream ? 'downstream' : 'both';
      exitCode = await lineageCommand(config, target, { direction, depth: opts.depth, format: opts.format, ...(opts.server ? { server: opts.server } : {}) }, print);
    });

  const contracts = program.command('contracts').description('work with data-product contracts');
  contracts
    .command('diff')
    .description('classify the changes between two versions of a contract (each a file or <git-ref>:<path>)')
    .argument('<base>')
    .argument('<head>')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((a: string, b: string, opts: { format: 'text' | 'json' }) => {
      exitCode = contractsDiffCommand(a, b, opts.format, print);
    });
  contracts
    .command('test')
    .description("run a product's checks on its current published data")
    .argument('<product>', 'e.g. risk.application_scores')
    .action(async (id: string) => {
      exitCode = await contractsTestCommand(config, id, print);
    });
  contracts
    .command('export')
    .description('a contract as JSON Schema (of one row) or SQL DDL')
    .argument('<contract>', 'a product id or a contract file')
    .addOption(new Option('--format <format>', 'what to write').choices(['jsonschema', 'ddl']).default('jsonschema'))
    .action((spec: string, opts: { format: 'jsonschema' | 'ddl' }) => {
      exitCode = contractsExportCommand(config, spec, opts.format, print);
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    if (code?.startsWith('commander.')) return 2;
    throw e;
  }
  return exitCode;
}

async function withRuntime(config: Config, work: (rt: Awaited<ReturnType<typeof openRuntime>>) => Promise<number>): Promise<number> {
  const rt = await openRuntime(config);
  try {
    return await work(rt);
  } finally {
    await rt.close();
  }
}

// A command whose work stops without an outcome (nothing left to wait on) must not pass for a success.
process.exitCode = 1;
process.once('beforeExit', () => {
  process.stderr.write('noetl: E_INTERNAL: the command stopped before it had an outcome\n');
  process.exit(1);
});

main(process.argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = asNoetlError(e);
    process.stderr.write(`noetl: ${err.format()}\n`);
    process.exit(1);
  },
);
