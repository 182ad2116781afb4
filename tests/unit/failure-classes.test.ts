/** The deterministic diagnosis of a failure, from the messages noetl's own steps fail with. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFailure, normalizeFailureText } from '../../services/registry/semantic/failure-classes.ts';

const cases: [string, string, string, string?][] = [
  [
    'E_CREDENTIAL_MISSING',
    'worker w1 has no credential "warehouse" for domain supply: set NOETL_SECRET_SUPPLY__WAREHOUSE where the workers run',
    'missing-credential',
  ],
  ['E_STEP_TIMEOUT', 'step "load" ran longer than its timeout of 5000 ms', 'timeout'],
  [
    'E_TOOL_LIMIT',
    'step "forecast": the python script ran longer than its time limit of 60000 ms and was stopped',
    'timeout',
  ],
  ['E_TOOL_LIMIT', 'step "forecast": the python script went over its memory limit of 512 MiB', 'resource-limit'],
  [
    'E_SCHEMA_NONCONFORMANT',
    'quality gate failed for risk.scores; output kept staged, current version unchanged:\n  risk.scores: schema: column "score" is missing (expected DOUBLE, observed missing)',
    'schema-drift',
  ],
  [
    'E_QUALITY_GATE_FAILED',
    'quality gate failed for risk.scores: check score.range on column "score": values in range: expected 0..1, observed 12',
    'gate-failure',
    'range',
  ],
  [
    'E_QUALITY_GATE_FAILED',
    'quality gate failed for risk.scores: check application_id.unique on column "application_id": no duplicates',
    'gate-failure',
    'unique',
  ],
  [
    'E_QUALITY_GATE_FAILED',
    'quality gate failed for shop.orders: check rowCount: row count: expected 1..10, observed 0',
    'gate-failure',
    'rowCount',
  ],
  [
    'E_TOOL_SQL',
    'step "score": Binder Error: Referenced column "scor" not found in FROM clause!',
    'sql-error',
    'missing column',
  ],
  [
    'E_TOOL_SQL',
    'step "score": Catalog Error: Table with name applications does not exist!',
    'sql-error',
    'missing table',
  ],
  [
    'E_TOOL_SQL',
    'step "read": Permission Error: Cannot access file "/etc/passwd" - file system operations are disabled by configuration',
    'sql-error',
    'permission denied',
  ],
  [
    'E_PRODUCT_NOT_PUBLISHED',
    'playbook marketing/build_campaign_targets consumes risk.application_scores, which has no published version yet; build it first',
    'upstream-missing',
  ],
  [
    'E_WORKLOAD_INVALID',
    'the workload of risk/score does not fit its workload_schema: workload.n must be integer',
    'bad-workload',
  ],
  [
    'E_HTTP_STATUS',
    'step "fetch": GET http://api.example.com/offers answered 401: {"error":"bad token"}',
    'http-client-error',
    '401',
  ],
  ['E_TOOL_FAILED', 'step "fetch": GET http://127.0.0.1:9/x failed: connect ECONNREFUSED 127.0.0.1:9', 'network'],
  [
    'E_HTTP_ADDRESS_REFUSED',
    'step "fetch": 169.254.169.254 is link-local (cloud metadata)',
    'network',
    'address refused',
  ],
  ['E_TEMPLATE', 'cannot render template "{{ x.y }}": undefined', 'template-error'],
  ['E_TEMPLATE_LIMIT', 'range() of 150000000 numbers is over the limit of 100000', 'resource-limit'],
  ['E_SANDBOX_UNAVAILABLE', 'cannot start the python sandbox', 'sandbox-unavailable'],
  ['E_DEAD_LETTER', 'step "x" was delivered 10 times without an outcome', 'worker-lost'],
  ['E_EXECUTION_POISONED', 'the execution cannot go on', 'poisoned'],
  ['E_SECRET_IN_OUTPUT', 'step "x" wrote a credential it was given into column "tags"', 'credential-leak'],
  ['E_CANCELLED', 'cancelled on request', 'cancelled'],
  ['E_INTERNAL', 'something odd', 'unknown'],
];

describe('classifying a failure', () => {
  for (const [code, message, expected, detail] of cases) {
    it(`${code}: ${message.slice(0, 60)} → ${expected}${detail ? ` (${detail})` : ''}`, () => {
      const d = classifyFailure({ code, message });
      assert.equal(d.class, expected);
      if (detail) assert.equal(d.detail, detail);
      assert.ok(d.cause.length > 0 && d.fix.length > 0);
    });
  }

  it('takes the kind of a gate failure from the failed checks when it has them', () => {
    assert.equal(
      classifyFailure({ code: 'E_QUALITY_GATE_FAILED', message: 'x', failedChecks: ['email.pattern'] }).detail,
      'pattern',
    );
  });

  it('covers at least ten classes of failure, each with a fix', () => {
    assert.ok(new Set(cases.map((c) => c[2])).size >= 10);
  });
});

describe('normalizing a failure message', () => {
  it('replaces what varies between runs, so failures of one kind read alike', () => {
    const a = normalizeFailureText(
      'step "load" ran longer than its timeout of 5000 ms (execution 3f2b8c1e-1d2a-4b5c-9d8e-0f1a2b3c4d5e, file:///tmp/x/staging/a.parquet)',
    );
    const b = normalizeFailureText(
      'step "load" ran longer than its timeout of 7000 ms (execution 9a8b7c6d-1d2a-4b5c-9d8e-0f1a2b3c4d5e, file:///var/y/staging/b.parquet)',
    );
    assert.equal(a, b);
    assert.match(a, /step "load" ran longer than its timeout of <n> ms/);
    assert.notEqual(
      normalizeFailureText('Referenced column "score" not found'),
      normalizeFailureText('Referenced column "amount" not found'),
    );
    assert.equal(
      normalizeFailureText("value 'it''s a secret value'"),
      normalizeFailureText("value 'another long value'"),
    );
  });
});
