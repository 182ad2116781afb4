/**
 * Where a python step's process runs. With NOETL_PYTHON_SANDBOX=bwrap (the
 * default) every step runs in a bubblewrap sandbox of its own
 * (bwrap-arguments.ts): the script sees no other process, none of the worker's
 * files or environment, and no network unless its step asks for it; the only
 * credentials it can reach are those its step names, handed to it on stdin.
 * Whether this worker can build such a sandbox is found out once, on its first
 * python step, by starting one; a worker that cannot fails its python steps
 * with E_SANDBOX_UNAVAILABLE rather than running them unsandboxed. With `none`,
 * the script is the worker's own child process, trusted like the worker.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NoetlError } from '../../../../common/errors.ts';
import type { PythonSandboxMode } from '../../../../platform/index.ts';
import { bwrapArguments, SANDBOX_GID, SANDBOX_UID, type HostLayout } from './bwrap-arguments.ts';

/** What one step's script may touch. */
export interface StepJail {
  /** The step's own folder: the script's working directory, the only place it may write to. */
  stepDir: string;
  /** Files it may read (the runner, the step's inputs), by a relative name of their own → the host file. */
  readOnly: Record<string, string>;
  network: boolean;
  memoryBytes: number;
}

/** Where the script sees the jail's folder and files: in the sandbox, under /noetl, whatever the host's layout. */
export interface JailView {
  stepDir: string;
  file(name: string): string;
}

/** A process to start: never a secret in `args` or `env`. */
export interface SpawnPlan {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface PythonSandbox {
  readonly mode: PythonSandboxMode;
  /** Gives the step's folder, and what the worker wrote into it, to the user the script runs as. */
  adopt(stepDir: string): void;
  /** Takes back a file the script wrote, before the worker keeps it: nothing the sandbox's user owns is published. */
  reclaim(file: string): void;
  view(jail: StepJail): JailView;
  /** The process that runs python with these arguments (paths as the jail's view has them), confined to the jail. */
  command(jail: StepJail, pythonArgs: string[]): SpawnPlan;
}

/** Where a sandboxed script finds its things. */
const JAIL_ROOT = '/noetl';
const JAIL_STEP_DIR = `${JAIL_ROOT}/step`;

/** Where bwrap and setpriv are looked for: system folders only, never a PATH a caller could prepend to. */
const SYSTEM_BIN_DIRS = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];
/** Top-level folders that hold programs and libraries: bound read-only, or recreated as the symlinks they are. */
const SYSTEM_TOP_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const PROBE_TIMEOUT_MS = 30_000;

const opened = new Map<string, Promise<PythonSandbox>>();

/** The sandbox of this process's python steps; probed once per interpreter and mode, not per step. */
export function pythonSandbox(python: string, mode: PythonSandboxMode): Promise<PythonSandbox> {
  const key = `${mode}:${python}`;
  const known = opened.get(key);
  if (known !== undefined) return known;
  const probing = openSandbox(python, mode);
  opened.set(key, probing);
  // A python that would not start may be fixed without a restart; a missing sandbox is not looked for again.
  void probing.catch((e: unknown) => {
    if (!(e instanceof NoetlError && e.code === 'E_SANDBOX_UNAVAILABLE')) opened.delete(key);
  });
  return probing;
}

/** Builds and tries a sandbox (uncached). `bwrap` overrides where bubblewrap is, for tests. */
export async function openSandbox(python: string, mode: PythonSandboxMode, options: { bwrap?: string } = {}): Promise<PythonSandbox> {
  if (mode === 'none') return unsandboxed(python);
  const bwrap = options.bwrap ?? findExecutable('bwrap');
  if (bwrap === undefined || !isExecutable(bwrap)) {
    throw unavailable(`bubblewrap is not installed (no executable bwrap in ${options.bwrap ?? SYSTEM_BIN_DIRS.join(', ')})`);
  }
  const privileged = process.getuid?.() === 0;
  const setpriv = privileged ? findExecutable('setpriv') : undefined;
  if (privileged && setpriv === undefined) throw unavailable('setpriv (util-linux) is missing: a worker running as root needs it to run scripts as nobody');
  const interpreter = await describeInterpreter(python);
  const help = await runCaptured(bwrap, ['--help'], {});
  const host = hostLayout(`${help.stdout}\n${help.stderr}`, setpriv);
  const sandbox = bwrapSandbox(bwrap, host, interpreter, privileged);
  await tryOut(sandbox);
  return sandbox;
}

function unsandboxed(python: string): PythonSandbox {
  return {
    mode: 'none',
    adopt: () => undefined,
    reclaim: () => undefined,
    view: (jail) => ({ stepDir: jail.stepDir, file: (name) => jail.readOnly[name]! }),
    command: (jail, pythonArgs) => ({ file: python, args: pythonArgs, env: { ...hostEnv(jail.stepDir), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' } }),
  };
}

interface Interpreter {
  /** The real interpreter (a pyenv shim is a shell script that cannot run in the sandbox). */
  executable: string;
  /** Its prefixes (a venv's and its base python's), bound read-only. */
  dirs: string[];
  /** The interpreter's file itself when it lies outside its prefixes. */
  files: string[];
}

const DESCRIBE_INTERPRETER = [
  'import json, os, sys',
  'print(json.dumps({"executable": sys.executable, "real": os.path.realpath(sys.executable),',
  '  "prefixes": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]}))',
].join('\n');

/** Asks the configured python, outside any sandbox, where it really is. */
async function describeInterpreter(python: string): Promise<Interpreter> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-python-'));
  try {
    const run = await runCaptured(python, ['-c', DESCRIBE_INTERPRETER], hostEnv(home));
    if (run.code !== 0) {
      const why = run.error ?? (lastLine(run.stderr) || `exit ${run.code}`);
      throw new NoetlError('E_TOOL_FAILED', `cannot start ${python}: ${why} (set NOETL_PYTHON to a python3 the workers have)`);
    }
    const described = JSON.parse(run.stdout) as { executable: string; real: string; prefixes: string[] };
    if (!path.isAbsolute(described.executable)) throw new NoetlError('E_TOOL_FAILED', `${python} does not say where its interpreter is (sys.executable is empty)`);
    const dirs = [...new Set(described.prefixes.filter((p) => path.isAbsolute(p)))];
    const within = (file: string): boolean => [...dirs, '/usr'].some((d) => file.startsWith(`${d}/`));
    const files = [...new Set([described.executable, described.real])].filter((f) => !within(f));
    return { executable: described.executable, dirs, files };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function hostLayout(bwrapHelp: string, setpriv: string | undefined): HostLayout {
  const links: Record<string, string> = {};
  const systemDirs: string[] = [];
  for (const dir of SYSTEM_TOP_DIRS) {
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) links[dir] = fs.readlinkSync(dir);
    else if (stat?.isDirectory()) systemDirs.push(dir);
  }
  const features = { disableUserns: bwrapHelp.includes('--disable-userns'), tmpfsSize: bwrapHelp.includes('--size') };
  return { links, systemDirs, features, ...(setpriv === undefined ? {} : { setpriv }) };
}

function bwrapSandbox(bwrap: string, host: HostLayout, interpreter: Interpreter, privileged: boolean): PythonSandbox {
  return {
    mode: 'bwrap',
    adopt(stepDir) {
      if (!privileged) return;
      fs.lchownSync(stepDir, SANDBOX_UID, SANDBOX_GID);
      fs.chmodSync(stepDir, 0o700);
      for (const entry of fs.readdirSync(stepDir)) fs.lchownSync(path.join(stepDir, entry), SANDBOX_UID, SANDBOX_GID);
    },
    reclaim(file) {
      if (privileged) fs.lchownSync(file, process.getuid!(), process.getgid!());
      fs.chmodSync(file, 0o644);
    },
    view: () => ({ stepDir: JAIL_STEP_DIR, file: (name) => path.posix.join(JAIL_ROOT, name) }),
    command(jail, pythonArgs) {
      const env = {
        PATH: `${path.dirname(interpreter.executable)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: JAIL_STEP_DIR,
        // There is no /etc/passwd to look the user up in.
        USER: 'nobody',
        LOGNAME: 'nobody',
        TMPDIR: '/tmp',
        LANG: 'C.UTF-8',
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
      };
      const binds = [
        ...interpreter.files.map((file) => ({ source: file, destination: file, writable: false })),
        ...Object.entries(jail.readOnly).map(([name, source]) => ({ source, destination: path.posix.join(JAIL_ROOT, name), writable: false })),
        { source: jail.stepDir, destination: JAIL_STEP_DIR, writable: true },
      ];
      const plan = {
        interpreterDirs: interpreter.dirs,
        binds,
        network: jail.network,
        tmpfsBytes: jail.memoryBytes,
        env,
      };
      // bwrap itself gets an empty environment: inside, /proc/1/environ is bwrap's.
      return { file: bwrap, args: [...bwrapArguments(host, plan), interpreter.executable, ...pythonArgs], env: {} };
    },
  };
}

/** Starts one sandbox, as a step would, and checks that the script runs as the unprivileged user. */
async function tryOut(sandbox: PythonSandbox): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-sandbox-probe-'));
  try {
    sandbox.adopt(dir);
    const jail = { stepDir: dir, readOnly: {}, network: false, memoryBytes: 64 * 1024 * 1024 };
    const plan = sandbox.command(jail, ['-c', 'import os; print(os.getuid())']);
    const run = await runCaptured(plan.file, plan.args, plan.env);
    if (run.code !== 0 || run.stdout.trim() !== String(SANDBOX_UID)) {
      const why = run.error ?? (lastLine(run.stderr) || `exit ${run.code}, printed ${JSON.stringify(run.stdout.trim())}`);
      throw unavailable(`bwrap could not start a sandbox here (${why})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function unavailable(reason: string): NoetlError {
  return new NoetlError(
    'E_SANDBOX_UNAVAILABLE',
    `python steps run in a bubblewrap sandbox, and this worker cannot start one: ${reason}. ` +
      'Install bubblewrap (e.g. apt-get install bubblewrap) where the workers run and let it create namespaces, ' +
      'or set NOETL_PYTHON_SANDBOX=none to run python steps unsandboxed (only on a trusted single-user machine)',
  );
}

/** The environment of a python started outside the sandbox: the worker's PATH (to find e.g. a pyenv shim), nothing else of it. */
function hostEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
}

function findExecutable(name: string): string | undefined {
  return SYSTEM_BIN_DIRS.map((dir) => path.join(dir, name)).find(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

function runCaptured(file: string, args: string[], env: Record<string, string>): Promise<Captured> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString('utf8')));
    child.on('error', (e) => resolve({ code: null, ...out, error: e.message }));
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
