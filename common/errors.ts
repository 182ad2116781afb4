/**
 * The catalogue of coded errors. Every failure a user can meet has a stable code,
 * a one-line meaning and whether retrying can help; the README lists them and a
 * test keeps the two in sync. Errors know nothing of HTTP: the registry's edge
 * handler maps codes to status codes.
 */

export const ERROR_CATALOGUE = {
  E_CONFIG_INVALID: { retryable: false, meaning: 'an environment variable has a bad value' },
  E_YAML_SYNTAX: { retryable: false, meaning: 'a YAML file does not parse' },
  E_FILE_UNREADABLE: { retryable: false, meaning: 'a file cannot be read: a directory, a broken or looping link, a link out of its folder, not a regular file, no permission' },
  E_FILE_INVALID: { retryable: false, meaning: 'a file is empty, not UTF-8 text, or over the size limit' },
  E_SCHEMA_INVALID: { retryable: false, meaning: 'a document does not match its schema' },
  E_CONTRACT_INVALID: { retryable: false, meaning: 'a data-product contract is invalid' },
  E_CONTRACT_DUPLICATE: { retryable: false, meaning: 'two contracts declare the same product id' },
  E_PLAYBOOK_INVALID: { retryable: false, meaning: 'a playbook does not match the playbook schema' },
  E_PLAYBOOK_UNDEFINED_STEP: { retryable: false, meaning: 'a next arc names a step that does not exist' },
  E_PLAYBOOK_DUPLICATE_STEP: { retryable: false, meaning: 'two steps share a name' },
  E_PLAYBOOK_UNREACHABLE_STEP: { retryable: false, meaning: 'no path leads from start to the step' },
  E_PLAYBOOK_UNKNOWN_TOOL: { retryable: false, meaning: 'a step uses a tool kind no worker has' },
  E_PLAYBOOK_UNDEFINED_PRODUCT: { retryable: false, meaning: 'produces/consumes names a product with no contract' },
  E_PLAYBOOK_UNDEFINED_CREDENTIAL: { retryable: false, meaning: "a step uses a credential the playbook's keychain does not declare" },
  E_PLAYBOOK_UNDEFINED_TASK: { retryable: false, meaning: 'a step calls a workbook task that does not exist' },
  E_PLAYBOOK_UNDEFINED_VARIABLE: { retryable: false, meaning: 'a template reads a variable that is not defined where it is read' },
  E_PLAYBOOK_NO_PATH_TO_END: { retryable: false, meaning: 'every way on from a step leads into a cycle that never exits' },
  E_PLAYBOOK_CYCLE_NO_EXIT: { retryable: false, meaning: 'a cycle of steps has no arc leaving it' },
  E_PLAYBOOK_CYCLE_NOT_EXCLUSIVE: { retryable: false, meaning: 'a step that closes a cycle also goes on, inclusively' },
  E_PLAYBOOK_JOIN_DEADLOCK: { retryable: false, meaning: 'a join can wait forever for a token' },
  E_PLAYBOOK_NO_DEFAULT_ARC: { retryable: false, meaning: 'an exclusive router has a when on every arc and no default' },
  E_PLAYBOOK_LOOP_NOT_LIST: { retryable: false, meaning: 'a loop goes over something that is not a list' },
  E_PLAYBOOK_STEP_CONFLICT: { retryable: false, meaning: 'a step combines fields that cannot go together' },
  E_WORKLOAD_INVALID: { retryable: false, meaning: 'the workload does not fit the workload schema' },
  E_WORKLOAD_TOO_LARGE: { retryable: false, meaning: 'the workload is larger than a run may carry' },
  E_CYCLE_LIMIT: { retryable: false, meaning: 'a step ran more times in one execution than the cycle limit allows' },
  E_CREDENTIAL_MISSING: { retryable: false, meaning: 'a worker has no value for a credential a step needs' },
  E_PLAYBOOK_NOT_FOUND: { retryable: false, meaning: 'no playbook at that domain/name' },
  E_PRODUCT_NOT_FOUND: { retryable: false, meaning: 'no product with that id' },
  E_PRODUCT_NOT_PUBLISHED: { retryable: false, meaning: 'a consumed product has no published version yet' },
  E_EXECUTION_NOT_FOUND: { retryable: false, meaning: 'no execution with that id' },
  E_DOMAIN_INVALID: { retryable: false, meaning: 'a domain.yaml is missing or invalid' },
  E_TEMPLATE: { retryable: false, meaning: 'a template or when-guard failed to render or evaluate' },
  E_TEMPLATE_LIMIT: { retryable: false, meaning: 'a template or when-guard went over its budget of time, size or range length' },
  E_PLAYBOOK_SQL_TEMPLATE: { retryable: false, meaning: 'a template sits where SQL cannot take a bound value' },
  E_GUARD_NOT_BOOLEAN: { retryable: false, meaning: 'a when-guard evaluated to something other than true/false' },
  E_STEP_TIMEOUT: { retryable: true, meaning: 'a step ran longer than its timeout and was stopped' },
  E_CANCELLED: { retryable: false, meaning: 'the execution was cancelled' },
  E_NO_MATCHING_POOL: { retryable: false, meaning: "no worker pool has the labels a step's resources ask for" },
  E_EXECUTION_POISONED: { retryable: false, meaning: 'an execution could not go on (its events, commands or log could not be handled) and was failed alone' },
  E_DEAD_LETTER: { retryable: false, meaning: 'a command was delivered the maximum number of times without an outcome' },
  E_TOOL_FAILED: { retryable: true, meaning: 'a tool raised an error while running a step' },
  E_HTTP_STATUS: { retryable: false, meaning: 'an HTTP request of a step answered with a client-error status' },
  E_HTTP_ADDRESS_REFUSED: { retryable: false, meaning: 'an HTTP request of a step was refused: its host is a loopback, private or link-local address that NOETL_HTTP_ALLOW does not name' },
  E_HTTP_TOO_LARGE: { retryable: false, meaning: "an HTTP answer of a step was larger than the step's max_bytes" },
  E_TOOL_LIMIT: { retryable: false, meaning: 'a step\'s process went over its time or memory limit and was stopped' },
  E_SANDBOX_UNAVAILABLE: { retryable: false, meaning: 'a worker cannot start the sandbox python steps run in (bubblewrap missing or without namespaces)' },
  E_TOOL_SQL: { retryable: false, meaning: 'a SQL statement of a step failed' },
  E_SECRET_IN_OUTPUT: { retryable: false, meaning: 'a step wrote a credential it was given into a nested column of its table' },
  E_QUALITY_GATE_FAILED: { retryable: false, meaning: 'a product output broke an error-level check of its contract' },
  E_SCHEMA_NONCONFORMANT: { retryable: false, meaning: 'a product output does not have the columns and types of its contract' },
  E_OUTCOME_REJECTED: { retryable: false, meaning: "a worker's report of a step's outcome did not check out (wrong product, location or checksum)" },
  E_ARTIFACT_OUTSIDE_ROOT: { retryable: false, meaning: 'an artifact reference resolves outside the store root' },
  E_ARTIFACT_CHECKSUM: { retryable: false, meaning: 'an artifact does not match its checksum' },
  E_ARTIFACT_NOT_FOUND: { retryable: false, meaning: 'an artifact reference points at nothing' },
  E_MIGRATION_FAILED: { retryable: false, meaning: 'a database migration failed; nothing of it was applied' },
  E_DATABASE_LOCKED: { retryable: true, meaning: 'the embedded database is held by another process' },
  E_BUS_CLOSED: { retryable: true, meaning: 'the bus is closed' },
  E_BUS_UNAVAILABLE: { retryable: true, meaning: 'the message bus cannot be reached, or lacks JetStream' },
  E_BUS_FORBIDDEN: { retryable: false, meaning: 'NATS refused the credentials, or an action they do not permit' },
  E_MESSAGE_TOO_LARGE: { retryable: false, meaning: "a message is over the bus's maximum message size" },
  E_EMBEDDER_FAILED: { retryable: true, meaning: 'the embedder could not embed texts (an endpoint error, timeout or a malformed answer)' },
  E_REQUEST_INVALID: { retryable: false, meaning: 'an API request is malformed' },
  E_ROUTE_NOT_FOUND: { retryable: false, meaning: 'no API route at that path' },
  E_METHOD_NOT_ALLOWED: { retryable: false, meaning: 'the API route does not take that method (the Allow header lists those it takes)' },
  E_REQUEST_TOO_LARGE: { retryable: false, meaning: 'a request body, or an event in it, is larger than its limit' },
  E_URL_TOO_LONG: { retryable: false, meaning: 'a request URL is longer than its limit' },
  E_UNSUPPORTED_MEDIA_TYPE: { retryable: false, meaning: 'a request body has a content type the route does not take' },
  E_HEADERS_TOO_LARGE: { retryable: false, meaning: "a request's headers are larger than the server accepts" },
  E_LINEAGE_LIMIT: { retryable: false, meaning: 'an OpenLineage event names more datasets or adds more edges than one event may' },
  E_EXECUTION_FINISHED: { retryable: false, meaning: 'the execution has already ended, so it cannot be cancelled' },
  E_DATABASE_UNAVAILABLE: { retryable: true, meaning: 'the database cannot be reached' },
  E_INTERNAL: { retryable: false, meaning: 'an unexpected internal error' },
} as const satisfies Record<string, { retryable: boolean; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Where a problem is, when it comes from a file. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** An error with a stable code, a location when known, and whether retrying can help. */
export class NoetlError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { location?: SourceLocation; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NoetlError';
    this.code = code;
    this.location = options.location;
    this.details = options.details;
  }

  get retryable(): boolean {
    return ERROR_CATALOGUE[this.code].retryable;
  }

  /** `file:line:col: CODE: message`, or `CODE: message` without a location. */
  format(): string {
    const where = this.location ? `${this.location.file}:${this.location.line}:${this.location.col}: ` : '';
    return `${where}${this.code}: ${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, location: this.location, details: this.details };
  }
}

export function isNoetlError(e: unknown): e is NoetlError {
  return e instanceof NoetlError;
}

/** Any thrown value as a NoetlError, keeping codes that are already there. */
export function asNoetlError(e: unknown, fallback: ErrorCode = 'E_INTERNAL'): NoetlError {
  if (e instanceof NoetlError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new NoetlError(fallback, message, { cause: e });
}
