/**
 * Playbook parsing: YAML with positions, the playbook JSON Schema, then the
 * model (workbook calls expanded, shorthands normalised) and the static checks.
 * A playbook is returned only when there are no errors. What the checker needs
 * from outside (known tool kinds, products, playbooks) is passed in.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Diagnostic } from '../../../common/diagnostics.ts';
import { parseDuration } from '../../../common/duration.ts';
import { schemaDiagnostics } from '../../../common/schema-diagnostics.ts';
import { parseYaml, type PathSegment } from '../../../common/yaml-source.ts';
import { checkPlaybook, type CheckContext } from './check-playbook.ts';
import { TASKS_TOOL, type Arc, type BackoffPolicy, type Loop, type Playbook, type RetryRule, type Step, type ToolSpec } from './model.ts';
import schema from './playbook.schema.json' with { type: 'json' };

const ajv = new Ajv2019({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

export type { CheckContext } from './check-playbook.ts';

export interface PlaybookParseResult {
  playbook: Playbook | undefined;
  diagnostics: Diagnostic[];
}

/** Parses a playbook of `domain`; `playbook` is set only when there is no error. */
export function parsePlaybook(text: string, file: string, domain: string, ctx: CheckContext): PlaybookParseResult {
  const source = parseYaml(text, file);
  if (source.diagnostics.length > 0) return { playbook: undefined, diagnostics: source.diagnostics };
  if (!validate(source.value)) return { playbook: undefined, diagnostics: schemaDiagnostics(source, validate.errors ?? [], 'E_PLAYBOOK_INVALID', 'playbook') };
  const raw = source.value as Raw;
  const diagnostics: Diagnostic[] = [];
  const playbook = toModel(raw, file, domain, (path, message) => diagnostics.push({ ...source.locate(path), code: 'E_PLAYBOOK_UNDEFINED_TASK', severity: 'error', message }));
  diagnostics.push(...checkPlaybook(playbook, source, ctx));
  return { playbook: diagnostics.some((d) => d.severity === 'error') ? undefined : playbook, diagnostics };
}

type Raw = {
  metadata: { name: string; description?: string; tags?: string[] };
  keychain?: { name: string; kind?: string }[];
  workload?: Record<string, unknown>;
  workload_schema?: Record<string, unknown>;
  workbook?: { name: string; tool: ToolSpec }[];
  workflow: RawStep[];
};
type RawArc = { step: string; when?: string | boolean; set?: Record<string, unknown> };
type RawBackoff = { backoff?: BackoffPolicy['backoff']; delay?: number | string; max_delay?: number | string; jitter?: boolean | number };
type RawRetry = RawBackoff & { max_attempts: number };
type RawRule = RawBackoff & { when?: string | boolean; then: RetryRule['then']; attempts?: number; step?: string };
type RawLoop = { in: unknown; iterator?: string; mode?: Loop['mode']; max_in_flight?: number };
type RawStep = {
  step: string;
  retry?: RawRetry | RawRule[];
  loop?: RawLoop;
  timeout?: number | string;
  resources?: string[];
  desc?: string;
  tool?: ToolSpec | ToolSpec[];
  produces?: string;
  consumes?: string[];
  next?: RawArc[] | { mode?: 'inclusive' | 'exclusive'; arcs: RawArc[] };
};

/** Parallel loops run this many items at once unless the step says otherwise. */
export const DEFAULT_LOOP_IN_FLIGHT = 16;

type Report = (path: PathSegment[], message: string) => void;

function toModel(raw: Raw, file: string, domain: string, report: Report): Playbook {
  const workbook = new Map((raw.workbook ?? []).map((t) => [t.name, t.tool]));
  return {
    ref: `${domain}/${raw.metadata.name}`,
    domain,
    name: raw.metadata.name,
    description: raw.metadata.description,
    tags: raw.metadata.tags ?? [],
    workload: raw.workload ?? {},
    workloadSchema: raw.workload_schema,
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
        tool: toTool(s.tool, workbook, [...path, 'tool'], report),
        mode: (!Array.isArray(s.next) && s.next?.mode) || 'inclusive',
        next: arcs.map((a, j): Arc => ({ step: a.step, when: a.when, set: a.set, path: [...arcsPath, j] })),
        produces: s.produces,
        consumes: s.consumes ?? [],
        retry: toRules(s.retry, [...path, 'retry']),
        loop: s.loop && toLoop(s.loop, [...path, 'loop']),
        timeoutMs: parseDuration(s.timeout),
        resources: s.resources ?? [],
        path,
      };
    }),
  };
}

/** A step's tool: one tool, or a task list; workbook calls (`kind: workbook, task: <name>`) are replaced by the task, their other options overriding its own. */
function toTool(tool: ToolSpec | ToolSpec[] | undefined, workbook: Map<string, ToolSpec>, path: PathSegment[], report: Report): ToolSpec {
  const one = (t: ToolSpec, at: PathSegment[]): ToolSpec => {
    if (t.kind !== 'workbook') return t;
    const { kind: _kind, task, ...overrides } = t;
    const found = typeof task === 'string' ? workbook.get(task) : undefined;
    if (!found) {
      const known = [...workbook.keys()];
      report([...at, 'task'], `workbook task ${JSON.stringify(task)} is not defined; the workbook has ${known.length > 0 ? known.join(', ') : 'no tasks'}`);
      return { kind: 'noop' };
    }
    return { ...found, ...overrides };
  };
  if (tool === undefined) return { kind: 'noop' };
  if (!Array.isArray(tool)) return one(tool, path);
  return { kind: TASKS_TOOL, tasks: tool.map((t, i) => ({ ...one(t, [...path, i]), ...(t.name !== undefined ? { name: t.name } : {}) })) };
}

function toBackoff(r: RawBackoff): BackoffPolicy {
  return {
    backoff: r.backoff ?? 'exponential',
    delayMs: parseDuration(r.delay) ?? 1000,
    maxDelayMs: parseDuration(r.max_delay) ?? 60_000,
    jitter: r.jitter === true ? 0.2 : r.jitter === false || r.jitter === undefined ? 0 : r.jitter,
  };
}

/** `retry: {max_attempts, ...}` is shorthand for one rule: retry errors marked retryable. */
function toRules(r: RawRetry | RawRule[] | undefined, path: PathSegment[]): RetryRule[] {
  if (r === undefined) return [];
  if (!Array.isArray(r)) return [{ ...toBackoff(r), when: '{{ error.retryable }}', then: 'retry', attempts: r.max_attempts, step: undefined, path }];
  return r.map((rule, i) => ({ ...toBackoff(rule), when: rule.when, then: rule.then, attempts: rule.attempts ?? (rule.then === 'retry' ? 3 : 1), step: rule.step, path: [...path, i] }));
}

function toLoop(l: RawLoop, path: PathSegment[]): Loop {
  const mode = l.mode ?? 'parallel';
  return { in: l.in, iterator: l.iterator ?? 'item', mode, maxInFlight: mode === 'sequential' ? 1 : (l.max_in_flight ?? DEFAULT_LOOP_IN_FLIGHT), path };
}
