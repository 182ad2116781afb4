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

  it('redacts every secret of the process in the forms it travels in: base64, URL-encoded, a URL\'s password, JSON-escaped', () => {
    const lines: string[] = [];
    const basic = 'svc:b4sic"pa/ss';
    const url = 'postgres://app:pg%2Fs3cret@db:5432/x';
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l), secrets: new Set([basic, url]) });
    log.warn('http answered 401', { echoed: `Authorization: Basic ${Buffer.from(basic).toString('base64')}`, query: `?p=${encodeURIComponent('b4sic"pa/ss')}` });
    log.error('connect failed', { error: new Error('password authentication failed (pg/s3cret)'), body: JSON.stringify({ password: 'b4sic"pa/ss' }) });
    log.info('by key', { [`key pg/s3cret`]: 1 });
    const all = lines.join('\n');
    for (const leak of ['b4sic', 'pg/s3cret', 'pg%2Fs3cret', Buffer.from(basic).toString('base64').slice(0, 12), 'pa%2Fss']) assert.ok(!all.includes(leak), `${leak} in ${all}`);
    assert.equal(lines.length, 3);
    for (const line of lines) JSON.parse(line);
    assert.match(all, /Basic \*\*\*/);
  });
});
