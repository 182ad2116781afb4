/**
 * A python step attacking its worker, end to end: `noetl run` in a child
 * process whose environment, from its start, holds another domain's
 * credential (a canary) both as the worker's secret and in its own initial
 * environment (what /proc/<pid>/environ shows). A step of a domain with an
 * empty keychain reads /proc/<ppid>/environ, /proc/1/environ, every
 * /proc/<pid>/environ and cmdline, the repository, NOETL_HOME, another step's
 * artifact and /etc/shadow, and dials PostgreSQL on 127.0.0.1:5432: in the
 * sandbox every attempt fails and the canary is nowhere, not in what the step
 * read, nor in any event, lineage event, artifact or line the CLI printed.
 * With NOETL_PYTHON_SANDBOX=none the same step finds it (so the test can fail,
 * and the setting is real); a step of the canary's domain that names the
 * credential gets it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runNoetl, type CliResult } from '../helpers/cli.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { REPO_ROOT, tempDir } from '../helpers/workspace.ts';

const CANARY_PREFIX = 'noetl-canary-';
const CANARY = `${CANARY_PREFIX}${randomBytes(12).toString('hex')}`;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Report {
  canary_seen: boolean;
  secret_names: string[];
  attempts: Record<string, string>;
  pids: number[];
  uid: number;
}

function writeDomains(root: string): void {
  const steal = fs.readFileSync(path.join(REPO_ROOT, 'tests/fixtures/sandbox/steal_secrets.py'), 'utf8');
  const files: Record<string, string> = {
    'attack/domain.yaml': 'owners: [attack@example.com]\n',
    'attack/playbooks/steal.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: steal }
workload: { canary_prefix: "", canary_length: 0, canary_sha256: "", repo: "", home: "", other_artifact: "../../decoy.1/output.parquet" }
workflow:
  - step: decoy
    tool: { kind: duckdb, sql: "SELECT 42 AS answer" }
    next: [{ step: steal }]
  - step: steal
    tool:
      kind: python
      time_limit: 60s
      script: ${JSON.stringify(steal)}
`,
    'other/domain.yaml': 'owners: [other@example.com]\n',
    'other/playbooks/use_token.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: use_token }
keychain: [{ name: token, kind: api, description: the canary }]
workflow:
  - step: use
    tool:
      kind: python
      credentials: [token]
      script: ${JSON.stringify(
        [
          'import hashlib, os, noetl',
          "token = noetl.credential('token')",
          "noetl.result({'sha256': hashlib.sha256(token.encode()).hexdigest(), 'in_environ': any(token in v for v in os.environ.values())})",
        ].join('\n'),
      )}
`,
  };
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
}

/** Every file under a folder, as bytes. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

describe('python sandbox: a step of another domain cannot reach the canary, whatever it reads', () => {
  let database: FreshDatabase;
  let client: pg.Client;
  const root = tempDir('noetl-sandbox-attack-');
  const domains = path.join(root, 'domains');

  before(async () => {
    writeDomains(domains);
    database = await freshPostgres('noetl_sandbox');
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await database.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function run(playbook: string, home: string, env: Record<string, string>, set: Record<string, string | number> = {}): Promise<{ cli: CliResult; executionId: string }> {
    const args = ['run', playbook, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`])];
    const cli = await runNoetl(args, {
      cwd: root,
      env: { NOETL_HOME: home, NOETL_DOMAINS_DIR: domains, NOETL_DATABASE_URL: database.url, NOETL_SECRET_OTHER__TOKEN: CANARY, NOETL_LOG_LEVEL: 'info', ...env },
      timeoutMs: 180_000,
    });
    const executionId = /\(execution ([^)]+)\)/.exec(cli.stdout)?.[1];
    assert.ok(executionId, `noetl run printed its execution:\n${cli.stdout}\n${cli.stderr}`);
    return { cli, executionId };
  }

  async function valueOf(executionId: string, step: string): Promise<unknown> {
    const r = await client.query<{ payload: { result?: { kind: string; value?: unknown }; error?: unknown } }>(
      "SELECT payload FROM events WHERE execution_id = $1 AND step = $2 AND type IN ('step.completed', 'step.failed') ORDER BY seq DESC LIMIT 1",
      [executionId, step],
    );
    const payload = r.rows[0]?.payload;
    assert.equal(payload?.result?.kind, 'value', `step ${step} returned a value: ${JSON.stringify(payload)}`);
    return payload.result.value;
  }

  const stealWorkload = (home: string): Record<string, string | number> => ({
    canary_prefix: CANARY_PREFIX,
    canary_length: CANARY.length,
    canary_sha256: sha256(CANARY),
    repo: REPO_ROOT,
    home,
  });

  it('sandboxed (the default): every attempt fails and the canary appears nowhere', async () => {
    const home = path.join(root, 'home-sandboxed');
    const { cli, executionId } = await run('attack/steal', home, {}, stealWorkload(home));
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const report = (await valueOf(executionId, 'steal')) as Report;
    assert.equal(report.canary_seen, false, JSON.stringify(report));
    assert.deepEqual(report.secret_names, []);
    assert.equal(report.uid, 65534, 'runs as nobody');
    assert.ok(report.pids.every((pid) => pid <= 2), `sees only its own PID namespace: ${report.pids.join(',')}`);
    const { attempts } = report;
    assert.notEqual(attempts['parent environ'], 'read', 'its parent is the sandbox, not the worker');
    assert.notEqual(attempts['pid 1 environ'], 'read');
    for (const attempt of ['repository file', 'repository', 'noetl home', "another step's artifact", '/etc/shadow', '/etc/passwd', '/root/.bashrc']) {
      assert.ok(/Error$/.test(attempts[attempt] ?? ''), `${attempt}: ${attempts[attempt]}`);
    }
    assert.equal(attempts['a file under NOETL_HOME'], undefined, 'no file of NOETL_HOME is even listed');
    assert.equal(attempts['postgres socket'], 'ConnectionRefusedError', 'no network: its own loopback has nothing listening');

    // The canary in no event, lineage event, execution row, artifact or printed line.
    for (const [table, column] of [['events', 'payload'], ['lineage_events', 'event'], ['executions', 'workload']] as const) {
      const hits = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column}::text LIKE '%' || $1 || '%'`, [CANARY]);
      assert.equal(hits.rows[0]!.n, 0, `the canary is in ${table}`);
    }
    for (const file of filesUnder(home)) assert.ok(!fs.readFileSync(file).includes(CANARY), `the canary is in ${file}`);
    assert.ok(!(cli.stdout + cli.stderr).includes(CANARY));
  });

  it('with NOETL_PYTHON_SANDBOX=none the same step reads the canary from its parent: the setting is real', async () => {
    const home = path.join(root, 'home-unsandboxed');
    const { cli, executionId } = await run('attack/steal', home, { NOETL_PYTHON_SANDBOX: 'none' }, stealWorkload(home));
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const report = (await valueOf(executionId, 'steal')) as Report;
    assert.equal(report.canary_seen, true, 'unsandboxed, the worker\'s environment is readable');
    assert.ok(report.secret_names.includes('NOETL_SECRET_OTHER__TOKEN'));
    assert.equal(report.attempts['parent environ'], 'read');
    assert.equal(report.attempts['repository file'], 'read');
    assert.equal(report.attempts["another step's artifact"], 'read');
    assert.equal(report.attempts['postgres socket'], 'connected');
  });

  it('a step of the canary\'s domain that names the credential gets it, through the runner only', async () => {
    const { cli, executionId } = await run('other/use_token', path.join(root, 'home-token'), {});
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.deepEqual(await valueOf(executionId, 'use'), { sha256: sha256(CANARY), in_environ: false });
  });
});
