import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../platform/index.ts';

describe('logger', () => {
  it('writes one JSON line per record above the level, with child fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l) }).child({ part: 'worker' });
    log.debug('hidden');
    log.info('step done', { rows: 10n });
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([rec.level, rec.msg, rec.part, rec.rows], ['info', 'step done', 'worker', 10]);
  });

  it('redacts registered secrets wherever they appear', () => {
    const lines: string[] = [];
    const secrets = new Set(['hunter22']);
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l), secrets });
    log.error('connect failed: password hunter22 rejected', { url: 'postgres://u:hunter22@h/db' });
    assert.ok(!lines[0]!.includes('hunter22'));
    assert.match(lines[0]!, /password \*\*\* rejected/);
  });
});
