/**
 * Playbook parsing and static checks. Each problem is a positioned diagnostic;
 * a playbook is returned only when there are no errors. What the checker needs
 * from outside (known tool kinds, known product ids) is passed in.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Diagnostic } from '../../../common/diagnostics.ts';
import type { ErrorCode } from '../../../common/errors.ts';
import { schemaDiagnostics } from '../../../common/schema-diagnostics.ts';
import { parseYaml, type YamlSource, type PathSegment } from '../../../common/yaml-source.ts';
import schema from './playbook.schema.json' with { type: 'json' };
import { parseDuration } from '../../../common/duration.ts';
import type { Arc, Playbook, RetryPolicy, Step, ToolSpec } from './model.ts';

const ajv = new Ajv2019({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

export interface CheckContext {
  /** Tool kinds some worker can run. */
  toolKinds: ReadonlySet<string>;
  /** Product ids that have a contract. */
  products: ReadonlySet<string>;
}

export interface PlaybookParseResult {
  playbook: Playbook | undefined;
  diagnostics: Diagnostic[];
}

/** Parses a playbook of `domain`; `playbook` is set only when there is no error. */
export function parsePlaybook(text: string, file: string, domain: string, ctx: CheckContext): PlaybookParseResult {
  const source = parseYaml(text, file);
  if (source.diagnostics.length > 0) return { playbook: undefined, diagnostics: source.diagnostics };
  if (!validate(source.value)) return { playbook: undefined, diagnostics: schemaDiagnostics(source, validate.errors ?? [], 'E_PLAYBOOK_INVALID', 'playbook') };
  const playbook = toModel(source.value as Raw, file, domain);
  const diagnostics = checkPlaybook(playbook, source, ctx);
  return { playbook: diagnostics.some((d) => d.severity === 'error') ? undefined : playbook, diagnostics };
}

function checkPlaybook(p: Playbook, source: YamlSource, ctx: CheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (code: ErrorCode, path: PathSegment[], message: string): void => {
    out.push({ ...source.locate(path), code, severity: 'error', message });
  };
  const names = new Map<string, Step>();
  for (const s of p.steps) {
    if (names.has(s.name)) report('E_PLAYBOOK_DUPLICATE_STEP', [...s.path, 'step'], `step "${s.name}" is defined twice`);
    names.set(s.name, s);
  }
  for (const s of p.steps) {
    if (!ctx.toolKinds.has(s.tool.kind)) {
      report('E_PLAYBOOK_UNKNOWN_TOOL', [...s.path, 'tool', 'kind'], `step "${s.name}" uses tool "${s.tool.kind}"; known tools: ${[...ctx.toolKinds].sort().join(', ')}`);
    }
    for (const a of s.next) {
      if (!names.has(a.step)) report('E_PLAYBOOK_UNDEFINED_STEP', [...a.path, 'step'], `step "${s.name}" goes next to "${a.step}", which is not defined${suggest(a.step, names.keys())}`);
    }
    if (s.produces !== undefined && !ctx.products.has(s.produces)) {
      report('E_PLAYBOOK_UNDEFINED_PRODUCT', [...s.path, 'produces'], `step "${s.name}" produces "${s.produces}", which has no contract`);
    }
    const credential = s.tool.credential;
    if (credential !== undefined && (typeof credential !== 'string' || !p.keychain.some((k) => k.name === credential))) {
      report('E_PLAYBOOK_UNDEFINED_CREDENTIAL', [...s.path, 'tool', 'credential'], `step "${s.name}" uses credential ${JSON.stringify(credential)}, which the playbook's keychain does not declare`);
    }
    s.consumes.forEach((c, i) => {
      if (!ctx.products.has(c)) report('E_PLAYBOOK_UNDEFINED_PRODUCT', [...s.path, 'consumes', i], `step "${s.name}" consumes "${c}", which has no contract`);
    });
  }
  const reachable = new Set<string>();
  const queue = [p.steps[0]!.name];
  while (queue.length > 0) {
    const n = queue.pop()!;
    if (reachable.has(n)) continue;
    reachable.add(n);
    for (const a of names.get(n)?.next ?? []) queue.push(a.step);
  }
  for (const s of p.steps) {
    if (!reachable.has(s.name)) report('E_PLAYBOOK_UNREACHABLE_STEP', [...s.path, 'step'], `step "${s.name}" cannot be reached from "${p.steps[0]!.name}"`);
  }
  return out;
}

function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

type Raw = {
  metadata: { name: string; description?: string };
  keychain?: { name: string; kind?: string }[];
  workload?: Record<string, unknown>;
  workflow: RawStep[];
};
type RawArc = { step: string; when?: string | boolean };
type RawRetry = { max_attempts: number; backoff?: RetryPolicy['backoff']; delay?: number | string; max_delay?: number | string; jitter?: boolean | number };
type RawStep = {
  step: string;
  retry?: RawRetry;
  timeout?: number | string;
  resources?: string[];
  desc?: string;
  tool?: ToolSpec;
  produces?: string;
  consumes?: string[];
  next?: RawArc[] | { mode?: 'inclusive' | 'exclusive'; arcs: RawArc[] };
};

function toModel(raw: Raw, file: string, domain: string): Playbook {
  return {
    ref: `${domain}/${raw.metadata.name}`,
    domain,
    name: raw.metadata.name,
    description: raw.metadata.description,
    workload: raw.workload ?? {},
    keychain: (raw.keychain ?? []).map((k) => ({ name: k.name, kind: k.kind })),
    file,
    steps: raw.workflow.map((s, i): Step => {
      const path: PathSegment[] = ['workflow', i];
      const listed = Array.isArray(s.next);
      const arcs = (Array.isArray(s.next) ? s.next : s.next?.arcs) ?? [];
      const arcsPath: PathSegment[] = listed ? [...path, 'next'] : [...path, 'next', 'arcs'];
      return {
        name: s.step,
        desc: s.desc,
        tool: s.tool ?? { kind: 'noop' },
        mode: (!Array.isArray(s.next) && s.next?.mode) || 'inclusive',
        next: arcs.map((a, j): Arc => ({ step: a.step, when: a.when, path: [...arcsPath, j] })),
        produces: s.produces,
        consumes: s.consumes ?? [],
        retry: s.retry && toRetry(s.retry),
        timeoutMs: parseDuration(s.timeout),
        resources: s.resources ?? [],
        path,
      };
    }),
  };
}

function toRetry(r: RawRetry): RetryPolicy {
  return {
    maxAttempts: r.max_attempts,
    backoff: r.backoff ?? 'exponential',
    delayMs: parseDuration(r.delay) ?? 1000,
    maxDelayMs: parseDuration(r.max_delay) ?? 60_000,
    jitter: r.jitter === true ? 0.2 : r.jitter === false || r.jitter === undefined ? 0 : r.jitter,
  };
}
