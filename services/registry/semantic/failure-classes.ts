/**
 * Why a step failed, told from what the failure carries, with no model: its
 * code, its message and, for a rejected product, which checks failed. Each
 * class has a recommended fix. Pure: the same failure is classified the same
 * way every time, fast enough to run on every failure as it is recorded.
 *
 * Also the failure's normalized text: the message with what differs from run
 * to run (numbers, ids, hashes, paths, quoted values, times) replaced by
 * placeholders, so failures of the same kind read the same, for grouping and
 * for the similarity search.
 */

export type FailureClass =
  | 'missing-credential'
  | 'timeout'
  | 'schema-drift'
  | 'gate-failure'
  | 'sql-error'
  | 'upstream-missing'
  | 'resource-limit'
  | 'bad-workload'
  | 'network'
  | 'http-client-error'
  | 'template-error'
  | 'sandbox-unavailable'
  | 'worker-lost'
  | 'poisoned'
  | 'cancelled'
  | 'credential-leak'
  | 'unknown';

/** What a failure carries, as the event log and the quality results have it. */
export interface FailureFacts {
  code: string;
  message: string;
  /** For a failed quality gate: the ids of the error-level checks that failed (`amount.range`, `rowCount`, …). */
  failedChecks?: string[];
}

export interface Diagnosis {
  class: FailureClass;
  /** For a gate failure, the kind of check; for a SQL error, what SQL said. */
  detail?: string;
  /** One line: what went wrong. */
  cause: string;
  /** One line: what to do about it. */
  fix: string;
}

interface Rule {
  when: (f: FailureFacts) => boolean;
  diagnose: (f: FailureFacts) => Omit<Diagnosis, 'class'>;
  class: FailureClass;
}

const code =
  (...codes: string[]) =>
  (f: FailureFacts): boolean =>
    codes.includes(f.code);
const says =
  (pattern: RegExp) =>
  (f: FailureFacts): boolean =>
    pattern.test(f.message);

const RULES: Rule[] = [
  {
    class: 'missing-credential',
    when: code('E_CREDENTIAL_MISSING', 'E_PLAYBOOK_UNDEFINED_CREDENTIAL'),
    diagnose: () => ({
      cause: 'a step names a credential the workers do not have',
      fix: 'store it with `noetl secret set <domain>/<name>` (or NOETL_SECRET_<DOMAIN>__<NAME> where the workers run), under the name the step gives',
    }),
  },
  {
    class: 'timeout',
    when: (f) => f.code === 'E_STEP_TIMEOUT' || (f.code === 'E_TOOL_LIMIT' && /time limit/i.test(f.message)),
    diagnose: () => ({
      cause: 'the step ran longer than its timeout',
      fix: 'find what got slower (more input, a slow service), or give the step a longer `timeout` or `time_limit`, with a retry rule for transient slowness',
    }),
  },
  {
    class: 'schema-drift',
    when: code('E_SCHEMA_NONCONFORMANT'),
    diagnose: (f) => ({
      detail: missingColumn(f.message),
      cause: "the step's output lacks a column of its contract, or has a column of another type",
      fix: "make the step's SQL produce the contract's columns and types, or change the contract (a breaking change needs a major version)",
    }),
  },
  {
    class: 'gate-failure',
    when: code('E_QUALITY_GATE_FAILED'),
    diagnose: (f) => {
      const kind = gateCheckKind(f);
      return {
        detail: kind,
        cause: `the output broke a ${kind} check of its contract, so it was not published`,
        fix: GATE_FIXES[kind] ?? GATE_FIXES.other!,
      };
    },
  },
  {
    class: 'resource-limit',
    when: (f) =>
      code('E_TOOL_LIMIT', 'E_TEMPLATE_LIMIT', 'E_MESSAGE_TOO_LARGE', 'E_HTTP_TOO_LARGE', 'E_CYCLE_LIMIT')(f) ||
      says(/out of memory|memory limit/i)(f),
    diagnose: (f) => ({
      detail: f.code,
      cause: 'the step went over a limit (memory, size, template budget or cycle count)',
      fix: "do the heavy work in SQL over tables rather than in templates or values, pass large data as tables, or raise the step's `memory_limit_mb`",
    }),
  },
  {
    class: 'sql-error',
    when: code('E_TOOL_SQL'),
    diagnose: (f) => {
      const detail = sqlDetail(f.message);
      return {
        detail,
        cause: `a SQL statement of the step failed (${detail})`,
        fix: SQL_FIXES[detail] ?? 'read the message: fix the SQL, or the table it reads',
      };
    },
  },
  {
    class: 'upstream-missing',
    when: (f) =>
      code('E_PRODUCT_NOT_PUBLISHED', 'E_PRODUCT_NOT_FOUND')(f) || says(/consumes .* no published version|stale/i)(f),
    diagnose: () => ({
      cause:
        'a product this playbook consumes has no good published version (never built, rejected by its gate, or stale)',
      fix: 'build the upstream product first, or fix why its own build failed (its root failure is linked)',
    }),
  },
  {
    class: 'bad-workload',
    when: code('E_WORKLOAD_INVALID', 'E_WORKLOAD_TOO_LARGE'),
    diagnose: () => ({
      cause: 'the run was given a workload the playbook does not take',
      fix: "give the keys and types of the playbook's workload (its workload_schema, or its defaults), and pass large data as a table",
    }),
  },
  {
    class: 'http-client-error',
    when: (f) => f.code === 'E_HTTP_STATUS',
    diagnose: (f) => {
      const auth = /answered 40[13]/.test(f.message);
      return {
        detail: /answered (\d{3})/.exec(f.message)?.[1],
        cause: auth ? "the API refused the step's credentials" : 'the API refused the request',
        fix: auth
          ? 'renew or correct the credential the step uses (`noetl secret set`)'
          : "fix the request the step sends (its URL, query or body) against the API's documentation",
      };
    },
  },
  {
    class: 'network',
    when: (f) =>
      code('E_HTTP_ADDRESS_REFUSED', 'E_BUS_UNAVAILABLE', 'E_DATABASE_UNAVAILABLE')(f) ||
      says(
        /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|answered 5\d\d|connect(ion)? (refused|failed)/i,
      )(f),
    diagnose: (f) =>
      f.code === 'E_HTTP_ADDRESS_REFUSED'
        ? {
            detail: 'address refused',
            cause: 'the step called a loopback, private or link-local address',
            fix: 'call a public address, or have the operator name it in NOETL_HTTP_ALLOW',
          }
        : {
            cause: 'a service the step reaches did not answer',
            fix: 'check the service is up and reachable from the workers; a retry rule on retryable errors rides out short outages',
          },
  },
  {
    class: 'template-error',
    when: code('E_TEMPLATE', 'E_GUARD_NOT_BOOLEAN', 'E_PLAYBOOK_SQL_TEMPLATE', 'E_PLAYBOOK_LOOP_NOT_LIST'),
    diagnose: () => ({
      cause: 'a template or guard of the playbook failed to evaluate',
      fix: 'fix the template (run `noetl check`): a guard gives true or false, a loop goes over a list, SQL takes values where values go',
    }),
  },
  {
    class: 'sandbox-unavailable',
    when: code('E_SANDBOX_UNAVAILABLE'),
    diagnose: () => ({
      cause: 'the worker cannot start the python sandbox',
      fix: 'install bubblewrap on the workers (Debian: bubblewrap) and allow user namespaces',
    }),
  },
  {
    class: 'worker-lost',
    when: code('E_DEAD_LETTER'),
    diagnose: () => ({
      cause: 'the workers died or timed out every time they ran the step',
      fix: "look at the workers' logs for crashes (memory), or give the step a timeout shorter than NOETL_ACK_WAIT_MS allows",
    }),
  },
  {
    class: 'poisoned',
    when: code('E_EXECUTION_POISONED', 'E_OUTCOME_REJECTED'),
    diagnose: () => ({
      cause:
        'the orchestrator could not carry the execution on (an event or command it could not handle, or a report that did not check out)',
      fix: 'read the message; run it again, and report it if it repeats',
    }),
  },
  {
    class: 'credential-leak',
    when: code('E_SECRET_IN_OUTPUT'),
    diagnose: () => ({
      cause: 'the step wrote a credential it was given into its table',
      fix: 'select only the columns you need: a credential has no place in a table',
    }),
  },
  {
    class: 'cancelled',
    when: code('E_CANCELLED'),
    diagnose: () => ({ cause: 'the execution was cancelled', fix: 'nothing to fix: run it again when wanted' }),
  },
];

/** The failure's class, cause and recommended fix. */
export function classifyFailure(f: FailureFacts): Diagnosis {
  for (const rule of RULES) if (rule.when(f)) return { class: rule.class, ...rule.diagnose(f) };
  return { class: 'unknown', cause: 'the step failed', fix: "read the error message and the step's logs" };
}

const GATE_FIXES: Record<string, string> = {
  required: 'the column has nulls: filter or fill them in the step, or make it optional in the contract',
  unique:
    'the key has duplicates: deduplicate in the step (e.g. DISTINCT ON or a window), or fix the join that multiplies rows',
  range: "values fall outside the contract's range: fix the computation, or widen the range if the data is right",
  length: 'text is longer or shorter than the contract allows: trim or fix it in the step',
  pattern: "values do not match the contract's pattern or format: normalize them in the step",
  values: 'values outside the accepted list appeared: map them in the step, or add them to the contract',
  relationship: 'keys point at rows the other product does not have: build it first, or filter orphans',
  freshness: 'the newest data is older than the SLA: check the source is being updated',
  rowCount: 'the output has more or fewer rows than the contract allows: check the inputs and filters',
  statistic: 'an aggregate moved out of its range: check the input for a shift, or update the expected range',
  drift: 'the distribution changed from the last version: check the input, or accept the change',
  sql: 'a custom SQL rule of the contract failed: read its failing rows',
  other: 'read which checks failed and their samples; fix the step or, if the data is right, the contract',
};

/** The kind of the first failed check, from its id (`column.kind` or a rule name). */
function gateCheckKind(f: FailureFacts): string {
  const ids = f.failedChecks ?? [...f.message.matchAll(/check ([\w.]+)/g)].map((m) => m[1]!);
  for (const id of ids) {
    const last = id.split('.').at(-1)!;
    const kind = CHECK_KINDS[last] ?? (/^(sql|custom)/.test(last) ? 'sql' : undefined);
    if (kind) return kind;
  }
  return 'other';
}

const CHECK_KINDS: Record<string, string> = {
  required: 'required',
  nullValues: 'required',
  missingValues: 'required',
  unique: 'unique',
  primaryKey: 'unique',
  duplicateValues: 'unique',
  range: 'range',
  length: 'length',
  pattern: 'pattern',
  format: 'pattern',
  invalidValues: 'values',
  validValues: 'values',
  relationship: 'relationship',
  freshness: 'freshness',
  rowCount: 'rowCount',
  rowCountComparison: 'rowCount',
  statistic: 'statistic',
  drift: 'drift',
  failingRows: 'sql',
};

const SQL_FIXES: Record<string, string> = {
  'missing column': "a column the SQL names does not exist: check its spelling and the upstream step's columns",
  'missing table':
    'a table the SQL names does not exist: earlier steps are views named after the step, products come through product()',
  'syntax error': 'the SQL does not parse: fix its syntax (templates bind as values, so no quotes around them)',
  'type mismatch': 'values of a type the expression does not take: add a cast',
  'permission denied': 'the step tried to reach a file or setting outside its sandbox: read only its inputs',
  'division by zero': 'guard the division (NULLIF(x, 0))',
  'constraint violation': 'the rows break a constraint of the target table: deduplicate or fix them',
};

function sqlDetail(message: string): string {
  if (/column .*(not found|does not exist)|Referenced column|no such column/i.test(message)) return 'missing column';
  if (/table .*(not found|does not exist)|relation .* does not exist|Catalog Error: Table/i.test(message))
    return 'missing table';
  if (/syntax error|Parser Error/i.test(message)) return 'syntax error';
  if (/Conversion Error|could not convert|invalid input syntax|No function matches|type mismatch/i.test(message))
    return 'type mismatch';
  if (/Permission Error|permission denied|disabled by configuration/i.test(message)) return 'permission denied';
  if (/division by zero/i.test(message)) return 'division by zero';
  if (/violates|Constraint Error|duplicate key/i.test(message)) return 'constraint violation';
  return 'other';
}

function missingColumn(message: string): string | undefined {
  return /column "?([\w.]+)"?[^;]*missing|missing column "?([\w.]+)/i.exec(message)?.slice(1).find(Boolean);
}

/** The failure's message with what varies between runs replaced, so failures of the same kind read alike. */
export function normalizeFailureText(message: string): string {
  return message
    .replace(/file:\/\/\S+|(?:\/[\w.-]+){2,}/g, '<path>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b[0-9a-f]{16,}\b/gi, '<hash>')
    .replace(/\b\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?\b/g, '<time>')
    .replace(/"(?:[^"\n]|""){0,200}"|'(?:[^'\n]|''){0,200}'/g, (q) => (/^["'][\w.]+["']$/.test(q) ? q : '<value>'))
    .replace(/-?\b\d+(\.\d+)?\b/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2_000);
}
