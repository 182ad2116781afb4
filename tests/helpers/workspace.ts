/** Temporary folders: a copy of the shipped domains, a scratch NOETL_HOME, small fixtures. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SHIPPED_DOMAINS = path.join(REPO_ROOT, 'domains');
/** The official OpenLineage and ODCS schemas: `../shared/spec` beside the repository, the only place tests read them from. */
export const SPEC_DIR = path.resolve(REPO_ROOT, '../shared/spec');

/** A path under SPEC_DIR, or an error saying where the schemas were looked for. */
export function specPath(...parts: string[]): string {
  const p = path.join(SPEC_DIR, ...parts);
  if (!fs.existsSync(p)) throw new Error(`the official schemas are not at ${SPEC_DIR} (looked for ${path.join(...parts)}): tests read them from ../shared/spec, so clone the repository next to the shared folder`);
  return p;
}

export function tempDir(prefix = 'noetl-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A scratch workspace with a copy of the shipped domains. */
export function workspace(): { root: string; domains: string; home: string; cleanup(): void } {
  const root = tempDir();
  const domains = path.join(root, 'domains');
  fs.cpSync(SHIPPED_DOMAINS, domains, { recursive: true });
  return { root, domains, home: path.join(root, '.noetl'), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Writes files (path → text) under a new temporary folder and returns it. */
export function fixtureTree(files: Record<string, string>): string {
  const root = tempDir('noetl-fixture-');
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return root;
}
