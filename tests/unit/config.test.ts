import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nkeys } from '@nats-io/transport-node';
import { loadConfig, redactUrl } from '../../platform/index.ts';
import { fixtureTree } from '../helpers/workspace.ts';

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

  for (const [name, value] of [['NOETL_PORT', '80a'], ['NOETL_PORT', '70000'], ['NOETL_LOG_LEVEL', 'loud'], ['NOETL_DATABASE_URL', 'mysql://x'], ['NOETL_NATS_URL', 'not a url'], ['NOETL_WORKER_CONCURRENCY', '0'], ['NOETL_PYTHON_SANDBOX', 'off'], ['NOETL_HTTP_ALLOW', '10.0.0.0/40'], ['NOETL_HTTP_ALLOW', '127.0.0.1:99999']] as const) {
    it(`fails fast on ${name}=${value}, naming the variable`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (e: unknown) => (e as { code?: string }).code === 'E_CONFIG_INVALID' && (e as Error).message.startsWith(`${name}=`));
    });
  }

  it('sandboxes python steps with bubblewrap unless told none', () => {
    assert.equal(loadConfig({}).pythonSandbox, 'bwrap');
    assert.equal(loadConfig({ NOETL_PYTHON_SANDBOX: 'none' }).pythonSandbox, 'none');
  });

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

describe('configuration: deployment and NATS credentials', () => {
  const invalid = (variable: string, secret?: string) => (e: unknown): boolean =>
    (e as { code?: string }).code === 'E_CONFIG_INVALID' && (e as Error).message.startsWith(variable) && (secret === undefined || !(e as Error).message.includes(secret));

  it('names the deployment noetl unless NOETL_DEPLOYMENT says otherwise, and refuses names NATS cannot carry', () => {
    assert.equal(loadConfig({}).deployment, 'noetl');
    assert.equal(loadConfig({ NOETL_DEPLOYMENT: 'team-b_2' }).deployment, 'team-b_2');
    for (const bad of ['Team', 'a.b', 'a*', 'a>', '9lives', 'a b', 'x'.repeat(33)]) {
      assert.throws(() => loadConfig({ NOETL_DEPLOYMENT: bad }), invalid('NOETL_DEPLOYMENT='), bad);
    }
  });

  it('takes credentials out of the URL, so the URL left can be printed', () => {
    const withPassword = loadConfig({ NOETL_NATS_URL: 'nats://svc:p%40ss@nats.internal:4222' });
    assert.equal(withPassword.natsUrl, 'nats://nats.internal:4222');
    assert.deepEqual(withPassword.natsCredentials, { user: 'svc', password: 'p@ss' });
    const withToken = loadConfig({ NOETL_NATS_URL: 'nats://s3cr3t-token@127.0.0.1:4222' });
    assert.equal(withToken.natsUrl, 'nats://127.0.0.1:4222');
    assert.deepEqual(withToken.natsCredentials, { token: 's3cr3t-token' });
    assert.deepEqual(loadConfig({ NOETL_NATS_URL: 'tls://127.0.0.1:4222' }).natsCredentials, { tls: {} });
    assert.deepEqual(loadConfig({ NOETL_NATS_URL: 'nats://127.0.0.1:4222' }).natsCredentials, {});
  });

  it('reads user and password, token, an nkey seed file and TLS files', () => {
    assert.deepEqual(loadConfig({ NOETL_NATS_USER: 'worker', NOETL_NATS_PASSWORD: 'pw' }).natsCredentials, { user: 'worker', password: 'pw' });
    assert.deepEqual(loadConfig({ NOETL_NATS_TOKEN: 'tok' }).natsCredentials, { token: 'tok' });
    const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
    const dir = fixtureTree({ 'user.nk': `${seed}\n`, 'ca.pem': 'ca', 'cert.pem': 'cert', 'key.pem': 'key' });
    assert.deepEqual(loadConfig({ NOETL_NATS_NKEY_FILE: 'user.nk' }, dir).natsCredentials, { nkeySeed: seed });
    const tls = loadConfig({ NOETL_NATS_TLS_CA: 'ca.pem', NOETL_NATS_TLS_CERT: 'cert.pem', NOETL_NATS_TLS_KEY: 'key.pem' }, dir).natsCredentials;
    assert.deepEqual(tls, { tls: { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } });
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses half a pair, two ways to authenticate, unreadable or wrong files, and never shows a secret doing so', () => {
    assert.throws(() => loadConfig({ NOETL_NATS_USER: 'worker' }), invalid('NOETL_NATS_USER'));
    assert.throws(() => loadConfig({ NOETL_NATS_PASSWORD: 'hunter22' }), invalid('NOETL_NATS_PASSWORD', 'hunter22'));
    assert.throws(() => loadConfig({ NOETL_NATS_URL: 'nats://u:hunter22@h:4222', NOETL_NATS_TOKEN: 't0ken99' }), (e: unknown) => invalid('NOETL_NATS_TOKEN', 'hunter22')(e) && !(e as Error).message.includes('t0ken99'));
    assert.throws(() => loadConfig({ NOETL_NATS_USER: 'u', NOETL_NATS_PASSWORD: 'hunter22', NOETL_NATS_TOKEN: 't0ken99' }), invalid('NOETL_NATS_TOKEN', 'hunter22'));
    assert.throws(() => loadConfig({ NOETL_NATS_URL: 'http://t0ken99@h:4222' }), invalid('NOETL_NATS_URL=', 't0ken99'));
    assert.throws(() => loadConfig({ NOETL_NATS_URL: 'http://u:hunter22@h:4222' }), invalid('NOETL_NATS_URL=', 'hunter22'));
    const dir = fixtureTree({ 'not-a-seed.nk': 'SAsecretbutnotauserseed', 'not.creds': 'hunter22' });
    assert.throws(() => loadConfig({ NOETL_NATS_NKEY_FILE: 'missing.nk' }, dir), invalid('NOETL_NATS_NKEY_FILE='));
    assert.throws(() => loadConfig({ NOETL_NATS_NKEY_FILE: 'not-a-seed.nk' }, dir), invalid('NOETL_NATS_NKEY_FILE', 'SAsecret'));
    assert.throws(() => loadConfig({ NOETL_NATS_CREDS_FILE: 'not.creds' }, dir), invalid('NOETL_NATS_CREDS_FILE', 'hunter22'));
    assert.throws(() => loadConfig({ NOETL_NATS_CREDS_FILE: '.' }, dir), invalid('NOETL_NATS_CREDS_FILE='));
    assert.throws(() => loadConfig({ NOETL_NATS_TLS_CA: 'missing.pem' }, dir), invalid('NOETL_NATS_TLS_CA='));
    assert.throws(() => loadConfig({ NOETL_NATS_TLS_CA: '.' }, dir), invalid('NOETL_NATS_TLS_CA='));
    assert.throws(() => loadConfig({ NOETL_NATS_TLS_CERT: 'not.creds' }, dir), invalid('NOETL_NATS_TLS_CERT'));
    fs.rmSync(dir, { recursive: true });
  });
});
