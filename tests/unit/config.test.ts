import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, redactUrl } from '../../platform/index.ts';

describe('configuration', () => {
  it('defaults to the embedded mode under .noetl', () => {
    const c = loadConfig({}, '/srv/app');
    assert.equal(c.home, '/srv/app/.noetl');
    assert.equal(c.artifactsDir, path.join('/srv/app/.noetl', 'artifacts'));
    assert.equal(c.domainsDir, '/srv/app/domains');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.natsUrl, undefined);
    assert.equal(c.port, 8080);
  });

  it('reads every variable', () => {
    const c = loadConfig({ NOETL_HOME: '/data', NOETL_DATABASE_URL: 'postgres://u:p@db:5432/noetl', NOETL_NATS_URL: 'nats://127.0.0.1:4222', NOETL_PORT: '9000', NOETL_LOG_LEVEL: 'debug', NOETL_WORKER_CONCURRENCY: '8' }, '/x');
    assert.equal(c.artifactsDir, '/data/artifacts');
    assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/noetl');
    assert.equal(c.port, 9000);
    assert.equal(c.workerConcurrency, 8);
  });

  for (const [name, value] of [['NOETL_PORT', '80a'], ['NOETL_PORT', '70000'], ['NOETL_LOG_LEVEL', 'loud'], ['NOETL_DATABASE_URL', 'mysql://x'], ['NOETL_NATS_URL', 'not a url'], ['NOETL_WORKER_CONCURRENCY', '0'], ['NOETL_HTTP_ALLOW', '10.0.0.0/40'], ['NOETL_HTTP_ALLOW', '127.0.0.1:99999']] as const) {
    it(`fails fast on ${name}=${value}, naming the variable`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (e: unknown) => (e as { code?: string }).code === 'E_CONFIG_INVALID' && (e as Error).message.startsWith(`${name}=`));
    });
  }

  it('parses worker pools with labels and limits', () => {
    assert.deepEqual(loadConfig({}).pools, [{ name: 'default', labels: ['cpu'], maxInFlight: 64 }]);
    assert.deepEqual(loadConfig({ NOETL_POOLS: 'default:cpu@8; gpu:gpu,highmem@2;io' }).pools, [
      { name: 'default', labels: ['cpu'], maxInFlight: 8 },
      { name: 'gpu', labels: ['gpu', 'highmem'], maxInFlight: 2 },
      { name: 'io', labels: [], maxInFlight: 64 },
    ]);
    for (const bad of ['', 'GPU:x', 'a:b@x', 'a;a']) {
      assert.throws(() => loadConfig({ NOETL_POOLS: bad === '' ? ';' : bad }), (e: unknown) => (e as Error).message.startsWith('NOETL_POOLS='), bad);
    }
  });

  it('reads the http allowlist: none by default, entries parsed once', () => {
    assert.deepEqual(loadConfig({}).httpAllow, []);
    const allow = loadConfig({ NOETL_HTTP_ALLOW: '127.0.0.1:8099, 10.0.0.0/8, localhost' }).httpAllow;
    assert.deepEqual(allow.map((e) => e.text), ['127.0.0.1:8099', '10.0.0.0/8', 'localhost']);
    assert.throws(() => loadConfig({ NOETL_HTTP_ALLOW: '127.0.0.1, not a host' }), (e: unknown) => /NOETL_HTTP_ALLOW=.*entry "not a host"/.test((e as Error).message));
  });

  it('never prints a password from a bad URL', () => {
    assert.throws(() => loadConfig({ NOETL_DATABASE_URL: 'mysql://user:s3cret@db/x' }), (e: unknown) => !(e as Error).message.includes('s3cret'));
    assert.equal(redactUrl('postgres://u:s3cret@h/db'), 'postgres://u:***@h/db');
  });
});
