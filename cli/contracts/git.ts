/** The few git questions `noetl check --base` asks, answered by the git command line. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { NoetlError } from '../../common/errors.ts';

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim() ?? (e as Error).message;
    throw new NoetlError('E_REQUEST_INVALID', `git ${args.join(' ')}: ${stderr}`, { cause: e });
  }
}

export interface FileChange {
  status: 'added' | 'modified' | 'deleted';
  /** Path relative to the working directory. */
  file: string;
}

/** Files under `dir` that differ between `base` and the working tree (committed or not), and new untracked files. */
export function changedFiles(base: string, dir: string, cwd: string = process.cwd()): FileChange[] {
  const top = git(cwd, ['rev-parse', '--show-toplevel']).trim();
  git(cwd, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`]);
  const rel = (p: string): string => path.relative(cwd, path.join(top, p));
  const scope = path.relative(top, path.resolve(cwd, dir)) || '.';
  const out: FileChange[] = [];
  for (const line of git(top, ['diff', '--name-status', '--no-renames', base, '--', scope]).split('\n').filter(Boolean)) {
    const [code, file] = line.split('\t') as [string, string];
    out.push({ status: code.startsWith('A') ? 'added' : code.startsWith('D') ? 'deleted' : 'modified', file: rel(file) });
  }
  for (const file of git(top, ['ls-files', '--others', '--exclude-standard', '--', scope]).split('\n').filter(Boolean)) out.push({ status: 'added', file: rel(file) });
  return out;
}

/** A file's text at a revision, or undefined if it did not exist there. */
export function fileAt(base: string, file: string, cwd: string = process.cwd()): string | undefined {
  const top = git(cwd, ['rev-parse', '--show-toplevel']).trim();
  const inRepo = path.relative(top, path.resolve(cwd, file)).split(path.sep).join('/');
  try {
    return execFileSync('git', ['show', `${base}:${inRepo}`], { cwd: top, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
