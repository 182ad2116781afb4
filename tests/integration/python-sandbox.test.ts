/**
 * The python sandbox, tool by tool, with the real python3 and the real bwrap:
 * who the script runs as and what it sees, where it may write, the network
 * (off unless the step says `network: true`), outputs that are links, no
 * process left behind after a time limit or a cancellation, credentials only
 * by name and only through the runner, the coded error of a worker without a
 * sandbox, and the recipe of a worker that does not run as root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import type { TableRef } from '../../platform/bus/messages.ts';
import { bwrapArguments } from '../../services/worker/tools/python/bwrap-arguments.ts';
import { openSandbox, pythonSandbox } from '../../services/worker/tools/python/sandbox.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';
import { REPO_ROOT, tempDir } from '../helpers/workspace.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const isRoot = process.getuid?.() === 0;

/** A loopback server that counts the connections it gets. */
async function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.end('hello\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Host processes whose command line holds the marker. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('python sandbox', () => {
  let bench: ToolBench;
  let numbers: TableRef;
  let hidden: TableRef;

  before(async () => {
    bench = await toolBench();
    numbers = (await bench.run({ kind: 'duckdb', sql: 'SELECT i AS n FROM range(10) t(i)' })).result as TableRef;
    hidden = (await bench.run({ kind: 'duckdb', sql: "SELECT 'not yours' AS s" })).result as TableRef;
  });
  after(() => bench.close());

  it('runs the script as nobody, alone in its namespaces, without capabilities, seeing only /noetl and system folders', async () => {
    const script = [
      'import json, os, socket, noetl',
      "status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)",
      'noetl.result({',
      "  'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups(),",
      "  'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),",
      "  'caps': [status['CapEff'].strip(), status['CapPrm'].strip(), status['CapBnd'].strip()], 'no_new_privs': status['NoNewPrivs'].strip(),",
      "  'hostname': socket.gethostname(), 'root': sorted(os.listdir('/')), 'noetl': sorted(os.listdir('/noetl')),",
      "  'inputs': sorted(os.listdir('/noetl/inputs')), 'cwd': os.getcwd(), 'etc': sorted(os.listdir('/etc')),",
      '})',
    ].join('\n');
    const { result } = await bench.run({ kind: 'python', inputs: { numbers: '{{ results.numbers }}' }, script }, { results: { numbers } });
    assert.equal(result.kind, 'value');
    const seen = result.value as Record<string, unknown>;
    assert.equal(seen.uid, 65534);
    assert.equal(seen.gid, 65534);
    assert.deepEqual(seen.groups, []);
    assert.deepEqual(seen.pids, [1, 2], 'its own PID namespace: bwrap and itself');
    assert.deepEqual(seen.caps, ['0000000000000000', '0000000000000000', '0000000000000000']);
    assert.equal(seen.no_new_privs, '1');
    assert.equal(seen.hostname, 'noetl-sandbox');
    assert.deepEqual(seen.noetl, ['inputs', 'runner.py', 'step']);
    assert.deepEqual(seen.inputs, ['numbers.parquet']);
    assert.equal(seen.cwd, '/noetl/step');
    assert.deepEqual(seen.etc, ['localtime']);
    const prefix = execFileSync('python3', ['-c', 'import sys; print(sys.base_prefix)'], { encoding: 'utf8' }).trim();
    const allowed = new Set(['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'noetl', 'proc', 'sbin', 'tmp', 'usr', prefix.split('/')[1]]);
    for (const entry of seen.root as string[]) assert.ok(allowed.has(entry), `/${entry} is visible in the sandbox`);
  });

  it('reads its named inputs (read-only), and no other artifact of the store', async () => {
    const script = [
      'import os, noetl',
      'def attempt(action):',
      '    try:',
      '        action()',
      "        return 'ok'",
      '    except OSError as e:',
      '        return type(e).__name__',
      "mine = noetl.inputs['numbers']['path']",
      'noetl.result({',
      "  'path': mine, 'size': os.path.getsize(mine),",
      "  'hidden': attempt(lambda: open(noetl.workload['hidden']).read()),",
      "  'store': attempt(lambda: os.listdir(noetl.workload['store'])),",
      "  'overwrite input': attempt(lambda: open(mine, 'ab').write(b'x')),",
      '})',
    ].join('\n');
    const workload = { hidden: bench.store.resolve(hidden.uri), store: path.dirname(path.dirname(bench.store.resolve(hidden.uri))) };
    const { result } = await bench.run({ kind: 'python', inputs: { numbers: '{{ results.numbers }}' }, script }, { results: { numbers }, workload });
    const seen = result.kind === 'value' ? (result.value as Record<string, unknown>) : {};
    // A read-only mount (EROFS), or first the file's owner (EACCES) when the sandbox runs as nobody.
    assert.match(String(seen['overwrite input']), /^(OSError|PermissionError)$/);
    delete seen['overwrite input'];
    assert.deepEqual(seen, { path: '/noetl/inputs/numbers.parquet', size: fs.statSync(bench.store.resolve(numbers.uri)).size, hidden: 'FileNotFoundError', store: 'FileNotFoundError' });
  });

  it('writes nowhere but its own folder; /tmp and /dev/shm are its own and vanish', async () => {
    const marker = `escape-${process.pid}-${Date.now()}`;
    const staging = path.dirname(bench.store.stagingPath('e', 'probe', 1));
    const targets = {
      staging: path.join(staging, marker),
      store: path.join(bench.store.root, marker),
      repository: path.join(REPO_ROOT, marker),
      usr: `/usr/${marker}`,
      noetl: `/noetl/${marker}`,
      tmp: `/tmp/${marker}`,
      shm: `/dev/shm/${marker}`,
      own: `/noetl/step/${marker}`,
    };
    const script = [
      'import json, noetl',
      'out = {}',
      'for name, target in noetl.workload["targets"].items():',
      '    try:',
      '        open(target, "w").write("x")',
      '        out[name] = "written"',
      '    except OSError as e:',
      '        out[name] = type(e).__name__',
      'noetl.result(out)',
    ].join('\n');
    const { result } = await bench.run({ kind: 'python', script }, { workload: { targets } });
    const outcome = result.kind === 'value' ? (result.value as Record<string, string>) : {};
    for (const name of ['staging', 'store', 'repository', 'usr', 'noetl']) assert.match(outcome[name] ?? '', /Error$/, `${name}: ${outcome[name]}`);
    for (const name of ['tmp', 'shm', 'own']) assert.equal(outcome[name], 'written', name);
    for (const name of ['staging', 'store', 'repository', 'usr', 'tmp', 'shm'] as const) {
      assert.equal(fs.existsSync(targets[name]), false, `${targets[name]} exists on the host`);
    }
    const executionDir = path.dirname(staging);
    const stepDirs = fs.readdirSync(executionDir).map((d) => path.join(executionDir, d, 'python'));
    assert.ok(!stepDirs.some((d) => fs.existsSync(d)), 'its folder, with what it wrote there, is gone once the step ends');
  });

  it('has no network unless the step says `network: true`', async () => {
    const server = await countingServer();
    try {
      const script = [
        'import socket, noetl',
        'try:',
        "    with socket.create_connection(('127.0.0.1', noetl.workload['port']), timeout=5) as s:",
        "        noetl.result(s.recv(16).decode())",
        'except OSError as e:',
        '    noetl.result(type(e).__name__)',
      ].join('\n');
      const closed = await bench.run({ kind: 'python', script }, { workload: { port: server.port } });
      assert.deepEqual(closed.result, { kind: 'value', value: 'ConnectionRefusedError' });
      assert.equal(server.connections(), 0);
      const open = await bench.run({ kind: 'python', network: true, script }, { workload: { port: server.port } });
      assert.deepEqual(open.result, { kind: 'value', value: 'hello\n' });
      assert.equal(server.connections(), 1);
    } finally {
      await server.close();
    }
    await assert.rejects(bench.run({ kind: 'python', network: 'yes', script: 'pass' }), (e: unknown) => e instanceof NoetlError && e.code === 'E_PLAYBOOK_INVALID' && /"network" must be true or false/.test(e.message));
  });

  for (const pythonSandbox of ['bwrap', 'none'] as const) {
    it(`refuses an output the script left as a link, and reads nothing through it (sandbox ${pythonSandbox})`, async () => {
      const secretFile = path.join(tempDir(), 'worker-only.txt');
      fs.writeFileSync(secretFile, '"worker-only-canary"');
      const links = [
        ['result.json', secretFile],
        ['output.parquet', bench.store.resolve(hidden.uri)],
        ['output.jsonl', '/proc/1/environ'],
      ];
      for (const [name, target] of links) {
        const script = `import os\nos.symlink(${JSON.stringify(target)}, ${JSON.stringify(name)})`;
        await assert.rejects(bench.run({ kind: 'python', script }, { pythonSandbox }), (e: unknown) => e instanceof NoetlError && e.code === 'E_ARTIFACT_OUTSIDE_ROOT' && e.message.includes(`${name} as a symbolic link`) && !e.message.includes('worker-only-canary'));
      }
      const hardLink = "import os\nos.link('script.py', 'result.json')";
      await assert.rejects(bench.run({ kind: 'python', script: hardLink }, { pythonSandbox }), (e: unknown) => e instanceof NoetlError && e.code === 'E_ARTIFACT_OUTSIDE_ROOT' && /as a hard link/.test(e.message));
    });
  }

  for (const pythonSandbox of ['bwrap', 'none'] as const) {
    for (const stop of ['time limit', 'cancellation'] as const) {
      it(`stops the script and everything it started at its ${stop}, at once (sandbox ${pythonSandbox})`, async () => {
        const marker = `noetl-sandbox-child-${stop.replace(' ', '-')}-${pythonSandbox}-${process.pid}-${Date.now()}`;
        const child = `subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)  # ${marker}'])`;
        const script = ['import subprocess, sys, time', child, 'time.sleep(60)'].join('\n');
        const abort = new AbortController();
        const tool = { kind: 'python', time_limit: stop === 'time limit' ? '3s' : '60s', script };
        const outcome = bench.run(tool, { signal: abort.signal, pythonSandbox }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(await until(() => processesWith(marker).length > 0, 10_000), 'the script started its child');
        if (stop === 'cancellation') abort.abort(new NoetlError('E_CANCELLED', 'stop'));
        const stopped = Date.now();
        const error = await outcome;
        // The child holds the script's stdout: had it lived on, the step would have waited for it.
        assert.ok(Date.now() - stopped < 5_000, `the step ended ${Date.now() - stopped} ms after its ${stop}`);
        assert.ok(error instanceof NoetlError && error.code === (stop === 'time limit' ? 'E_TOOL_LIMIT' : 'E_CANCELLED'), String(error));
        assert.ok(await until(() => processesWith(marker).length === 0, 5_000), `left behind: ${processesWith(marker).join(', ')}`);
      });
    }
  }

  it('dies with its worker: a worker killed mid-step leaves no process of the script behind', async () => {
    const marker = `noetl-sandbox-orphan-${process.pid}-${Date.now()}`;
    const worker = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tests/fixtures/sandbox/sleeping-step.ts'), marker], { cwd: REPO_ROOT, stdio: 'ignore' });
    const exited = new Promise((resolve) => worker.on('exit', resolve));
    try {
      assert.ok(await until(() => processesWith(marker).length > 0, 20_000), 'the script started its child');
    } finally {
      worker.kill('SIGKILL');
      await exited;
    }
    assert.ok(await until(() => processesWith(marker).length === 0, 5_000), `left behind: ${processesWith(marker).join(', ')}`);
  });

  it('gets only the credentials its step names, through the runner, never in its environment or a command line', async () => {
    const script = [
      'import glob, hashlib, os, noetl',
      "key = noetl.credential('api_key')",
      'try:',
      "    noetl.credential('other_key')",
      "    other = 'given'",
      'except KeyError:',
      "    other = 'refused'",
      'seen = []',
      "for f in glob.glob('/proc/*/environ') + glob.glob('/proc/*/cmdline'):",
      '    try:',
      "        seen.append(open(f, 'rb').read())",
      '    except OSError:',
      '        pass',
      "noetl.result({'sha256': hashlib.sha256(key.encode()).hexdigest(), 'other': other,",
      "  'in_environ': key in ''.join(os.environ.values()), 'in_proc': any(key.encode() in b for b in seen)})",
    ].join('\n');
    const secrets = { api_key: 'step-own-key-7f3a', other_key: 'not-named-key-91c2' };
    const { result } = await bench.run({ kind: 'python', credentials: ['api_key'], script }, { secrets });
    assert.deepEqual(result, { kind: 'value', value: { sha256: sha256(secrets.api_key), other: 'refused', in_environ: false, in_proc: false } });
  });

  it('refuses an input name that would be a path, writing nothing', async () => {
    const escape = path.join(tempDir(), 'written-by-worker');
    const name = path.relative(path.dirname(bench.store.stagingPath('e', 'x', 1)), escape);
    await assert.rejects(
      bench.run({ kind: 'python', input_format: 'jsonl', inputs: { [name]: '{{ results.numbers }}' }, script: 'pass' }, { results: { numbers } }),
      (e: unknown) => e instanceof NoetlError && e.code === 'E_PLAYBOOK_INVALID' && /python input name/.test(e.message),
    );
    assert.equal(fs.existsSync(`${escape}.jsonl`), false);
  });

  it('without bubblewrap, or with one that cannot start a sandbox, fails with E_SANDBOX_UNAVAILABLE (not retryable), never unsandboxed', async () => {
    for (const bwrap of ['/nonexistent/bwrap', '/usr/bin/false']) {
      await assert.rejects(openSandbox('python3', 'bwrap', { bwrap }), (e: unknown) => {
        assert.ok(e instanceof NoetlError, String(e));
        assert.equal(e.code, 'E_SANDBOX_UNAVAILABLE');
        assert.equal(e.retryable, false);
        assert.match(e.message, /install bubblewrap/i);
        assert.match(e.message, /NOETL_PYTHON_SANDBOX=none/);
        return true;
      });
    }
    assert.equal(pythonSandbox('python3', 'bwrap'), pythonSandbox('python3', 'bwrap'), 'probed once per worker process, not per step');
  });

  it('a worker that is not root: bwrap as an ordinary user puts the script in a user namespace, without nested ones', { skip: !isRoot || !fs.existsSync('/usr/bin/python3') ? 'needs root (to become an ordinary user) and /usr/bin/python3' : false }, async () => {
    const stepDir = tempDir('noetl-sandbox-userns-');
    fs.chownSync(stepDir, 65534, 65534);
    const args = bwrapArguments(
      { links: { '/bin': 'usr/bin', '/lib': 'usr/lib', '/lib64': 'usr/lib64', '/sbin': 'usr/sbin' }, systemDirs: ['/usr'], features: { disableUserns: true, tmpfsSize: true } },
      { interpreterDirs: ['/usr'], binds: [{ source: stepDir, destination: '/noetl/step', writable: true }], network: false, tmpfsBytes: 64 << 20, env: { PATH: '/usr/bin' } },
    );
    const script = [
      'import json, os, subprocess',
      "status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)",
      "nested = subprocess.run(['/usr/bin/unshare', '--user', 'true'], capture_output=True).returncode",
      "open('/noetl/step/own', 'w').write('x')",
      "print(json.dumps({'uid': os.getuid(), 'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'cap': status['CapEff'].strip(), 'nested_userns': nested}))",
    ].join('\n');
    const setpriv = ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/bwrap', ...args, '/usr/bin/python3', '-c', script];
    const child = spawn('/usr/bin/setpriv', setpriv, { env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const seen = JSON.parse(stdout) as { uid: number; pids: number[]; cap: string; nested_userns: number };
    assert.equal(seen.uid, 65534);
    assert.ok(seen.pids.every((pid) => pid <= 3), seen.pids.join(','));
    assert.equal(seen.cap, '0000000000000000');
    assert.notEqual(seen.nested_userns, 0, 'user namespaces are disabled inside');
    assert.equal(fs.statSync(path.join(stepDir, 'own')).uid, 65534, 'its files belong to the ordinary user on the host');
  });
});
