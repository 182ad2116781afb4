/**
 * Static checks of a parsed playbook, each finding a positioned diagnostic:
 * what the playbook names (steps, tools, products, credentials, workbook
 * tasks, sub-playbooks, template variables) must exist, the workload must fit
 * its schema, and the compiled net must be sound (see soundness.ts).
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Diagnostic } from '../../../common/diagnostics.ts';
import type { ErrorCode } from '../../../common/errors.ts';
import { guardReferences, templateReferences, type TemplateReference } from '../../../common/template-references.ts';
import type { PathSegment, YamlSource } from '../../../common/yaml-source.ts';
import { PLAYBOOK_TOOL, TASKS_TOOL, toolsOf, type Playbook, type Step } from './model.ts';
import { checkSoundness } from './soundness.ts';
import { runsBefore } from './runs-before.ts';
import { checkSqlTemplates } from './sql-template-check.ts';
import { successors } from './step-graph.ts';
import { suggest } from '../../../common/suggest.ts';

export interface CheckContext {
  /** Tool kinds some worker can run. */
  toolKinds: ReadonlySet<string>;
  /** Product ids that have a contract. */
  products: ReadonlySet<string>;
  /** Playbooks a sub-playbook step may call, as `<domain>/<name>`; unchecked when absent. */
  playbooks?: ReadonlySet<string>;
}

export type Report = (code: ErrorCode, path: PathSegment[], message: string) => void;

const ajv = new Ajv2019({ allErrors: true, strict: false });

export function checkPlaybook(p: Playbook, source: YamlSource, ctx: CheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report: Report = (code, path, message) => out.push({ ...source.locate(path), code, severity: 'error', message });
  const names = new Set<string>();
  for (const s of p.steps) {
    if (names.has(s.name)) report('E_PLAYBOOK_DUPLICATE_STEP', [...s.path, 'step'], `step "${s.name}" is defined twice`);
    names.add(s.name);
  }
  for (const s of p.steps) checkStep(p, s, names, ctx, report);
  checkWorkload(p, report);
  checkLoops(p, report);
  checkTemplates(p, report);
  checkSqlTemplates(p, report);
  checkSoundness(p, report);
  return out;
}

function checkStep(p: Playbook, s: Step, names: ReadonlySet<string>, ctx: CheckContext, report: Report): void {
  const tools = toolsOf(s);
  tools.forEach((t, i) => {
    const at = s.tool.kind === TASKS_TOOL ? [...s.path, 'tool', i] : [...s.path, 'tool'];
    if (t.kind === PLAYBOOK_TOOL) checkSubPlaybook(p, s, t, at, ctx, report, tools.length > 1);
    else if (!ctx.toolKinds.has(t.kind)) report('E_PLAYBOOK_UNKNOWN_TOOL', [...at, 'kind'], `step "${s.name}" uses tool "${t.kind}"; known tools: ${[...ctx.toolKinds, PLAYBOOK_TOOL].sort().join(', ')}`);
    const credential = t.credential;
    if (credential !== undefined && (typeof credential !== 'string' || !p.keychain.some((k) => k.name === credential))) {
      report('E_PLAYBOOK_UNDEFINED_CREDENTIAL', [...at, 'credential'], `step "${s.name}" uses credential ${JSON.stringify(credential)}, which the playbook's keychain does not declare`);
    }
    // A python step's process gets exactly the credentials it lists: each must be declared too.
    (Array.isArray(t.credentials) ? (t.credentials as unknown[]) : []).forEach((name, j) => {
      if (p.keychain.some((k) => k.name === name)) return;
      report('E_PLAYBOOK_UNDEFINED_CREDENTIAL', [...at, 'credentials', j], `step "${s.name}" lists credential ${JSON.stringify(name)}, which the playbook's keychain does not declare`);
    });
  });
  for (const a of s.next) {
    if (!names.has(a.step)) report('E_PLAYBOOK_UNDEFINED_STEP', [...a.path, 'step'], `step "${s.name}" goes next to "${a.step}", which is not defined${suggest(a.step, names)}`);
  }
  for (const r of s.retry) {
    if (r.then !== 'jump') continue;
    if (r.step === undefined) report('E_PLAYBOOK_UNDEFINED_STEP', r.path, `a retry rule of step "${s.name}" jumps but names no step: add \`step: <name>\``);
    else if (!names.has(r.step)) report('E_PLAYBOOK_UNDEFINED_STEP', [...r.path, 'step'], `a retry rule of step "${s.name}" jumps to "${r.step}", which is not defined${suggest(r.step, names)}`);
  }
  if (s.produces !== undefined && !ctx.products.has(s.produces)) {
    report('E_PLAYBOOK_UNDEFINED_PRODUCT', [...s.path, 'produces'], `step "${s.name}" produces "${s.produces}", which has no contract`);
  }
  s.consumes.forEach((c, i) => {
    if (!ctx.products.has(c)) report('E_PLAYBOOK_UNDEFINED_PRODUCT', [...s.path, 'consumes', i], `step "${s.name}" consumes "${c}", which has no contract`);
  });
  if (s.loop && s.produces !== undefined) report('E_PLAYBOOK_STEP_CONFLICT', [...s.path, 'produces'], `step "${s.name}" loops and produces a product; a product has one output: produce it in a step after the loop`);
  if (s.loop && s.retry.some((r) => r.then === 'jump')) report('E_PLAYBOOK_STEP_CONFLICT', [...s.path, 'retry'], `step "${s.name}" loops, so a retry rule cannot jump (which item's failure would decide?); use retry, continue or fail`);
  if (s.tool.kind === PLAYBOOK_TOOL && s.produces !== undefined) report('E_PLAYBOOK_STEP_CONFLICT', [...s.path, 'produces'], `step "${s.name}" calls a sub-playbook, which publishes its own products; move \`produces\` into the sub-playbook`);
}

function checkSubPlaybook(p: Playbook, s: Step, t: Record<string, unknown>, at: PathSegment[], ctx: CheckContext, report: Report, inList: boolean): void {
  if (inList) report('E_PLAYBOOK_STEP_CONFLICT', at, `step "${s.name}": a sub-playbook is a step of its own, not a task of a task list`);
  const target = t.path;
  if (typeof target !== 'string' || !/^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/.test(target)) {
    report('E_PLAYBOOK_INVALID', [...at, 'path'], `step "${s.name}" calls a sub-playbook: \`path\` must be "<domain>/<playbook>"`);
  } else if (target === p.ref) {
    report('E_PLAYBOOK_STEP_CONFLICT', [...at, 'path'], `step "${s.name}" calls its own playbook, which would never end`);
  } else if (ctx.playbooks && !ctx.playbooks.has(target)) {
    report('E_PLAYBOOK_NOT_FOUND', [...at, 'path'], `step "${s.name}" calls playbook "${target}", which does not exist${suggest(target, ctx.playbooks)}`);
  }
}

/** The workload defaults must fit the workload schema (a value a run must supply may be missing). */
function checkWorkload(p: Playbook, report: Report): void {
  if (!p.workloadSchema) return;
  let validate;
  try {
    validate = ajv.compile(p.workloadSchema);
  } catch (e) {
    report('E_WORKLOAD_INVALID', ['workload_schema'], `workload_schema is not a valid JSON Schema: ${(e as Error).message}`);
    return;
  }
  if (validate(p.workload)) return;
  for (const err of validate.errors ?? []) {
    if (err.keyword === 'required') continue;
    const keys = err.instancePath.split('/').slice(1).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    report('E_WORKLOAD_INVALID', ['workload', ...keys], `workload${err.instancePath.replaceAll('/', '.')} ${err.message ?? 'does not fit the workload schema'}`);
  }
}

/** A loop must go over a list: a literal list, or a template; a workload value it names must be a list. */
function checkLoops(p: Playbook, report: Report): void {
  const declared = (p.workloadSchema?.properties ?? {}) as Record<string, { type?: unknown }>;
  for (const s of p.steps) {
    if (!s.loop || Array.isArray(s.loop.in)) continue;
    const at = [...s.loop.path, 'in'];
    const text = String(s.loop.in);
    const m = /^\s*\{\{\s*workload\.([a-z_][a-z0-9_]*)\s*\}\}\s*$/i.exec(text);
    if (!text.includes('{{')) {
      report('E_PLAYBOOK_LOOP_NOT_LIST', at, `step "${s.name}" loops over ${JSON.stringify(text)}, which is a string, not a list; give a list or a template such as "{{ workload.items }}"`);
    } else if (m) {
      const key = m[1]!;
      const value = p.workload[key];
      const type = declared[key]?.type;
      if (value !== undefined && !Array.isArray(value)) report('E_PLAYBOOK_LOOP_NOT_LIST', at, `step "${s.name}" loops over workload.${key}, which is ${JSON.stringify(value)}, not a list`);
      else if (type !== undefined && type !== 'array') report('E_PLAYBOOK_LOOP_NOT_LIST', at, `step "${s.name}" loops over workload.${key}, which the workload schema types as ${JSON.stringify(type)}, not an array`);
    }
  }
}

/** Where a template is, and which names it may use there. */
interface TemplateSite {
  step: Step | undefined;
  path: PathSegment[];
  value: unknown;
  guard: boolean;
  roots: readonly string[];
  /** Whether the step's own result is there yet (in its arcs, after it ran). */
  own: boolean;
}

const BASE_ROOTS = ['workload', 'results', 'execution_id', 'vars'];
/** A worker renders tool options; it also knows the attempt, the products the step consumes and, in a task list, the previous task's result. Credentials are never templated: a tool takes them by name (`credential:`). */
const TOOL_ROOTS = [...BASE_ROOTS, 'attempt', 'product', 'previous'];
const RETRY_ROOTS = [...BASE_ROOTS, 'attempt', 'error'];

function templateSites(p: Playbook): TemplateSite[] {
  const sites: TemplateSite[] = [];
  for (const s of p.steps) {
    const loopRoots = s.loop ? [s.loop.iterator, 'iteration'] : [];
    const toolPath = [...s.path, 'tool'];
    if (s.tool.kind === PLAYBOOK_TOOL) sites.push({ step: s, path: [...toolPath, 'input'], value: s.tool.input, guard: false, roots: [...BASE_ROOTS, ...loopRoots], own: false });
    else sites.push({ step: s, path: toolPath, value: s.tool.kind === TASKS_TOOL ? s.tool.tasks : s.tool, guard: false, roots: [...TOOL_ROOTS, ...loopRoots], own: false });
    if (s.loop) sites.push({ step: s, path: [...s.loop.path, 'in'], value: s.loop.in, guard: false, roots: BASE_ROOTS, own: false });
    for (const a of s.next) {
      if (typeof a.when === 'string') sites.push({ step: s, path: [...a.path, 'when'], value: a.when, guard: true, roots: BASE_ROOTS, own: true });
      if (a.set) sites.push({ step: s, path: [...a.path, 'set'], value: a.set, guard: false, roots: BASE_ROOTS, own: true });
    }
    for (const r of s.retry) if (typeof r.when === 'string') sites.push({ step: s, path: [...r.path, 'when'], value: r.when, guard: true, roots: [...RETRY_ROOTS, ...loopRoots], own: false });
  }
  return sites;
}

/** Every variable a template reads must exist where it is read. */
function checkTemplates(p: Playbook, report: Report): void {
  const succ = successors(p);
  const declaredVars = new Set(p.steps.flatMap((s) => s.next.flatMap((a) => Object.keys(a.set ?? {}))));
  const workloadKeys = new Set([...Object.keys(p.workload), ...Object.keys((p.workloadSchema?.properties as Record<string, unknown> | undefined) ?? {})]);
  const stepNames = new Set(p.steps.map((s) => s.name));
  const reaches = runsBefore(succ);
  for (const site of templateSites(p)) {
    // Results a site can read: those of steps that can run before it (itself too, in a cycle or in its own arcs).
    const self = site.step?.name;
    const before = (step: string): boolean => self === undefined || (step === self && site.own) || reaches(step, self);
    forEachString(site.value, site.path, (text, at) => {
      let refs: TemplateReference[];
      try {
        refs = site.guard ? guardReferences(text) : templateReferences(text);
      } catch (e) {
        report('E_TEMPLATE', at, (e as Error).message);
        return;
      }
      for (const ref of refs) {
        const problem = undefinedReference(ref, site, { workloadKeys, declaredVars, stepNames, before });
        if (problem) report('E_PLAYBOOK_UNDEFINED_VARIABLE', at, problem);
      }
    });
  }
}

interface Known {
  workloadKeys: ReadonlySet<string>;
  declaredVars: ReadonlySet<string>;
  stepNames: ReadonlySet<string>;
  before: (step: string) => boolean;
}

function undefinedReference(ref: TemplateReference, site: TemplateSite, k: Known): string | undefined {
  const where = site.step ? `step "${site.step.name}"` : 'the playbook';
  if (ref.root === 'keychain') return `${where} reads the keychain in a template; credentials never go into templates: give the tool \`credential: <name>\``;
  if (!site.roots.includes(ref.root)) return `${where} uses "${ref.root}", which is not defined here${suggest(ref.root, site.roots)}; available: ${site.roots.join(', ')}`;
  const key = ref.path[0];
  if (key === undefined) return undefined;
  switch (ref.root) {
    case 'workload':
      return k.workloadKeys.has(key) ? undefined : `${where} uses workload.${key}, which is neither in the workload nor in its schema${suggest(key, k.workloadKeys)}`;
    case 'vars':
      return k.declaredVars.has(key) ? undefined : `${where} uses vars.${key}, which no arc sets${suggest(key, k.declaredVars)}`;
    case 'results':
      if (!k.stepNames.has(key)) return `${where} uses results.${key}, but there is no step "${key}"${suggest(key, k.stepNames)}`;
      return k.before(key) ? undefined : `${where} uses results.${key}, but step "${key}" never runs before it`;
    default:
      return undefined;
  }
}

function forEachString(value: unknown, path: PathSegment[], fn: (text: string, path: PathSegment[]) => void): void {
  if (typeof value === 'string') fn(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, [...path, i], fn));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) forEachString(v, [...path, k], fn);
}
