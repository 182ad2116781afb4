/** Runs the real `noetl` command line in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './workspace.ts';

export const NOETL_BIN = path.join(REPO_ROOT, 'bin', 'noetl.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface NoetlOptions {
  cwd: string;
  env?: Record<string, string>;
  /**
   * Let file permissions apply: root (as tests run here) reads any file, so it
   * runs without the capabilities that override them (setpriv drops them).
   */
  filePermissions?: boolean;
}

export function startNoetl(args: string[], options: NoetlOptions): ChildProcess {
  const asRoot = options.filePermissions === true && process.getuid?.() === 0;
  const command = asRoot ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', process.execPath] : [process.execPath];
  return spawn(command[0]!, [...command.slice(1), NOETL_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NOETL_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runNoetl(args: string[], options: NoetlOptions & { timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startNoetl(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`noetl ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
