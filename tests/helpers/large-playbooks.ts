/**
 * Playbooks of any number of steps, in the three shapes that stress a checker
 * and a compiler: a chain (deep), a fan-out to parallel branches joined again
 * (wide), and a chain whose last step jumps back to the first on failure (one
 * cycle through every step). Each step reads a result that can be there
 * before it runs, so the template checker answers "can X run before Y?" once
 * per step. One step per line, in flow style, to keep the files small.
 */

export type LargeShape = 'chain' | 'fan-out' | 'retry-cycle';

export const LARGE_SHAPES: readonly LargeShape[] = ['chain', 'fan-out', 'retry-cycle'];

/** A step's name: `s` and its number in base 36 (s0 … s255r for 100,000 steps). */
export function stepName(i: number): string {
  return `s${i.toString(36)}`;
}

export interface LargePlaybookOptions {
  /**
   * Steps that read a result that cannot be there when they run (each an
   * E_PLAYBOOK_UNDEFINED_VARIABLE): in a chain, the last step's; in a fan-out,
   * the next branch's (a sibling, running beside it).
   */
  readsLater?: readonly number[];
}

/** The YAML of a playbook named `name` with `steps` steps in the given shape. */
export function largePlaybook(shape: LargeShape, steps: number, name = 'large', options: LargePlaybookOptions = {}): string {
  const later = new Set(options.readsLater ?? []);
  const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', `metadata: { name: ${name} }`, 'workflow:'];
  const step = (i: number, reads: number | undefined, next: string, extra = ''): string => {
    const wrong = shape === 'fan-out' ? i + 1 : steps - 1;
    const read = later.has(i) ? stepName(wrong) : reads === undefined ? undefined : stepName(reads);
    const tool = read === undefined ? '{ kind: noop }' : `{ kind: noop, input: "{{ results.${read} }}" }`;
    return `  - { step: ${stepName(i)}, tool: ${tool}${next}${extra} }`;
  };
  const arcTo = (i: number): string => `, next: [{ step: ${stepName(i)} }]`;
  if (shape === 'fan-out') {
    // s0 → s1 … s(n-2) in parallel → s(n-1), which joins them and reads the first and last branch.
    const join = steps - 1;
    lines.push(`  - { step: ${stepName(0)}, tool: { kind: noop }, next: [${range(1, join).map((i) => `{ step: ${stepName(i)} }`).join(', ')}] }`);
    for (let i = 1; i < join; i++) lines.push(step(i, 0, arcTo(join)));
    lines.push(`  - { step: ${stepName(join)}, tool: { kind: noop, input: "{{ results.${stepName(1)} }} {{ results.${stepName(join - 1)} }}" } }`);
  } else {
    for (let i = 0; i < steps; i++) {
      const last = i === steps - 1;
      const reads = i === 0 ? (shape === 'retry-cycle' ? steps - 1 : undefined) : i - 1;
      const jump = shape === 'retry-cycle' && last ? `, retry: [{ when: "{{ error.retryable }}", then: jump, step: ${stepName(0)} }]` : '';
      lines.push(step(i, reads, last ? '' : arcTo(i + 1), jump));
    }
  }
  return `${lines.join('\n')}\n`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
