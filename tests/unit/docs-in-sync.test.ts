/** The README's tables of error codes and configuration variables, and the playbook reference's diagnostics, match the code. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CATALOGUE } from '../../common/errors.ts';
import { CONFIG_VARIABLES } from '../../platform/index.ts';
import { REPO_ROOT } from '../helpers/workspace.ts';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

function tableRows(firstColumn: RegExp): string[][] {
  return readme
    .split('\n')
    .filter((l) => firstColumn.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

describe('README in sync with the code', () => {
  it('lists every error code with its meaning and retryability, and no others', () => {
    const rows = tableRows(/^\| `E_[A-Z_]+` \|/);
    const documented = Object.fromEntries(rows.map(([code, meaning, retry]) => [code!.replace(/`/g, ''), { meaning, retryable: retry === 'yes' }]));
    assert.deepEqual(documented, ERROR_CATALOGUE);
  });

  it('lists every configuration variable with its meaning and default', () => {
    const rows = tableRows(/^\| `NOETL_[A-Z_<>]+` \|/);
    assert.deepEqual(
      rows.map(([name, meaning, def]) => ({ name: name!.replace(/`/g, ''), meaning, default: def!.replace(/`/g, '') })),
      CONFIG_VARIABLES.map((v) => ({ ...v })),
    );
  });

  it('shows the two commands of a fresh clone on its first screen', () => {
    const first = readme.split('\n').slice(0, 20).join('\n');
    assert.match(first, /npm ci && npm start/);
    assert.match(first, /npm test/);
  });
});

describe('docs/playbooks.md in sync with the code', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/playbooks.md'), 'utf8');
  const documented = doc.split('\n').flatMap((l) => /^\| `(E_[A-Z_]+)` \|/.exec(l)?.[1] ?? []);

  it('explains every playbook diagnostic, with a fix', () => {
    const playbookCodes = Object.keys(ERROR_CATALOGUE).filter((c) => c.startsWith('E_PLAYBOOK_') || ['E_WORKLOAD_INVALID', 'E_CYCLE_LIMIT', 'E_TEMPLATE', 'E_GUARD_NOT_BOOLEAN'].includes(c));
    for (const code of playbookCodes) assert.ok(documented.includes(code), `${code} is in the diagnostics table`);
    for (const code of documented) assert.ok(code in ERROR_CATALOGUE, `${code} exists`);
  });

  it('documents every field of the playbook schema', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'services/orchestrator/dsl/playbook.schema.json'), 'utf8')) as { properties: Record<string, unknown>; $defs: Record<string, { properties?: Record<string, unknown> }> };
    const fields = [...Object.keys(schema.properties), ...['step', 'retryRule', 'retryShorthand'].flatMap((d) => Object.keys(schema.$defs[d]!.properties ?? {})), 'max_in_flight', 'iterator', 'set'];
    for (const f of fields) assert.match(doc, new RegExp(`\\b${f}\\b`), `field ${f}`);
  });
});
