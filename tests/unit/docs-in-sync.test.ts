/** The README's tables of error codes and configuration variables match the code. */
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
