/**
 * How templates run: parsed once and cached, evaluated by an interpreter that
 * keeps a budget. Templates come from playbooks, but the values they walk come
 * from callers (a workload can hold 150,000,000 as `n` and a guard can say
 * `range(workload.n)`), so every evaluation is bounded in time, in the size of
 * every string and list it makes, and in the length of `range()`. Going over
 * is E_TEMPLATE_LIMIT, never an exhausted process.
 *
 * A bound template is the same source with each `{{ … }}` output handed to a
 * binder instead of being printed as text: SQL gets a placeholder and a
 * parameter, a URL gets a percent-encoded component. The rewrite happens on the
 * token stream, so text outside the braces is never touched.
 */
import * as jinja from '@huggingface/jinja';
import { NoetlError } from './errors.ts';

export interface TemplateLimits {
  /** Wall-clock budget of one evaluation. */
  maxMs: number;
  /** Longest string, and most items in a list, any expression may make. */
  maxSize: number;
  /** Most numbers `range()` may give. */
  maxRange: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { maxMs: 1_000, maxSize: 1_048_576, maxRange: 100_000 };

/** A binder decides what each `{{ … }}` of a bound template becomes in the text. */
export interface Binder {
  /** The text standing for a value, e.g. `$3` with the value kept as parameter 3. */
  value(value: unknown): string;
  /** The text of a value filtered with `| identifier`: validated, quoted. */
  identifier(value: unknown): string;
}

// The library's type declarations do not resolve under NodeNext: the few shapes used here, declared once.
interface Token {
  value: string;
  type: string;
}
type Program = { type: 'Program' };
interface RuntimeValue {
  type: string;
  value: unknown;
}
interface Environment {
  set(name: string, value: unknown): unknown;
  variables: Map<string, unknown>;
}
interface Interpreter {
  run(program: Program): RuntimeValue;
  evaluate(statement: unknown, environment: Environment): RuntimeValue;
}
const tokenize = jinja.tokenize as (source: string, options: Record<string, boolean>) => Token[];
const parse = jinja.parse as (tokens: Token[]) => Program;
const Environment = jinja.Environment as new () => Environment;
const Interpreter = jinja.Interpreter as new (env: Environment) => Interpreter;
/**
 * The library's function value, which receives its arguments as runtime values
 * (a function set as plain JavaScript sees none and undefined both as undefined).
 */
const FunctionValue = ((): new (fn: (args: RuntimeValue[]) => RuntimeValue) => RuntimeValue => {
  const probe = new Environment();
  probe.set('f', () => null);
  return (probe.variables.get('f') as object).constructor as new (
    fn: (args: RuntimeValue[]) => RuntimeValue,
  ) => RuntimeValue;
})();
const StringValue = ((): new (text: string) => RuntimeValue => {
  const probe = new Environment();
  probe.set('s', '');
  return (probe.variables.get('s') as object).constructor as new (text: string) => RuntimeValue;
})();
/** Runs a block of statements, once per iteration of a loop: where an empty loop body spends its time. */
const evaluateBlock = (
  Interpreter as unknown as {
    prototype: { evaluateBlock: (this: Interpreter, statements: unknown[], env: Environment) => RuntimeValue };
  }
).prototype.evaluateBlock;

const BIND = '__noetl_bind';
const IDENT = '__noetl_identifier';
const TOKENIZE_OPTIONS = { lstrip_blocks: true, trim_blocks: true };
const CACHE_LIMIT = 5_000;
const cache = new Map<string, Program>();

/** Parses a template (plain, or with its outputs bound), cached by source. */
export function compileTemplate(source: string, bound = false): Program {
  const key = `${bound ? 'b' : 'p'}:${source}`;
  let program = cache.get(key);
  if (!program) {
    try {
      const tokens = tokenize(source, TOKENIZE_OPTIONS);
      program = parse(bound ? bindOutputs(tokens) : tokens);
    } catch (e) {
      throw new NoetlError('E_TEMPLATE', `cannot parse template ${JSON.stringify(source)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, program);
  }
  return program;
}

/** Evaluates a parsed template against a scope within the limits; a deadline (epoch ms) can shorten them. */
export function runTemplate(program: Program, scope: Record<string, unknown>, options: RunOptions = {}): string {
  const limits = options.limits ?? DEFAULT_TEMPLATE_LIMITS;
  const env = new Environment();
  env.set('false', false);
  env.set('true', true);
  env.set('none', null);
  env.set('False', false);
  env.set('True', true);
  env.set('None', null);
  env.set('range', boundedRange(limits.maxRange));
  for (const [name, value] of Object.entries(scope)) env.set(name, value);
  if (options.binder) {
    const binder = options.binder;
    env.variables.set(BIND, new FunctionValue(([value]) => new StringValue(binder.value(toPlain(value)))));
    env.variables.set(IDENT, new FunctionValue(([value]) => new StringValue(binder.identifier(toPlain(value)))));
  }
  const own = Date.now() + limits.maxMs;
  const byStep = options.deadline !== undefined && options.deadline < own;
  const result = new BudgetedInterpreter(env, byStep ? options.deadline! : own, byStep, limits.maxSize).run(program);
  return String(result.value);
}

export interface RunOptions {
  limits?: TemplateLimits;
  /** Stop by this time (epoch ms) too, e.g. when the step's own timeout ends. */
  deadline?: number;
  /** For a template compiled bound: what its outputs become. */
  binder?: Binder;
}

/** Counts evaluations and checks the clock and the size of what each one made. */
class BudgetedInterpreter extends Interpreter {
  private steps = 0;

  constructor(
    env: Environment,
    private readonly deadline: number,
    /** Whether the deadline is the step's timeout rather than the template's own budget. */
    private readonly byStep: boolean,
    private readonly maxSize: number,
  ) {
    super(env);
  }

  override evaluate(statement: unknown, environment: Environment): RuntimeValue {
    this.tick();
    const value = super.evaluate(statement, environment);
    const size = typeof value.value === 'string' || Array.isArray(value.value) ? value.value.length : 0;
    if (size > this.maxSize) {
      throw new NoetlError(
        'E_TEMPLATE_LIMIT',
        `the template made a ${typeof value.value === 'string' ? 'string' : 'list'} of ${size} items, over the limit of ${this.maxSize}`,
      );
    }
    return value;
  }

  /** Overrides the library's private block runner, which every loop iteration goes through. */
  evaluateBlock(statements: unknown[], environment: Environment): RuntimeValue {
    this.tick();
    return evaluateBlock.call(this, statements, environment);
  }

  private tick(): void {
    if (++this.steps % 1024 !== 0 || Date.now() <= this.deadline) return;
    if (this.byStep) throw new NoetlError('E_STEP_TIMEOUT', 'the step ran out of time while its templates rendered');
    throw new NoetlError('E_TEMPLATE_LIMIT', 'the template ran out of its time budget');
  }
}

function boundedRange(maxRange: number) {
  return (start: number, stop?: number, step = 1): number[] => {
    const [from, to] = stop === undefined ? [0, start] : [start, stop];
    if (step === 0) throw new NoetlError('E_TEMPLATE', 'range() step must not be zero');
    const count = Math.max(0, Math.ceil((to - from) / step));
    if (!Number.isFinite(count) || count > maxRange) {
      throw new NoetlError('E_TEMPLATE_LIMIT', `range() of ${count} numbers is over the limit of ${maxRange}`);
    }
    return Array.from({ length: count }, (_, i) => from + i * step);
  };
}

/**
 * Wraps every `{{ expr }}` as `{{ __noetl_bind((expr)) }}`, and `{{ expr | identifier }}`
 * as `{{ __noetl_identifier((expr)) }}`, so the binder sees each output's value.
 */
function bindOutputs(tokens: Token[]): Token[] {
  const out: Token[] = [];
  const make = (value: string, type: string): Token => ({ value, type });
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    out.push(token);
    if (token.type !== 'OpenExpression') continue;
    let end = i + 1;
    while (end < tokens.length && tokens[end]!.type !== 'CloseExpression') end++;
    let inner = tokens.slice(i + 1, end);
    const last = inner.at(-1);
    const isIdentifier = inner.at(-2)?.type === 'Pipe' && last?.type === 'Identifier' && last.value === 'identifier';
    if (isIdentifier) inner = inner.slice(0, -2);
    out.push(make(isIdentifier ? IDENT : BIND, 'Identifier'), make('(', 'OpenParen'), make('(', 'OpenParen'));
    out.push(...inner, make(')', 'CloseParen'), make(')', 'CloseParen'));
    i = end - 1;
  }
  return out;
}

/** A template's runtime value as plain JSON-like data: none is null, a missing value undefined. */
function toPlain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object' && 'type' in value) {
    const runtime = value as RuntimeValue;
    if (runtime.type === 'NullValue') return null;
    if (runtime.type === 'UndefinedValue') return undefined;
    return toPlain(runtime.value);
  }
  return value;
}
