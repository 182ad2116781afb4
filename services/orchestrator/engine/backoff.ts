/**
 * Retry delays. Deterministic: the jitter of an attempt comes from a hash of
 * the execution, step and attempt, so replaying a log makes the same decision.
 */
import type { BackoffPolicy } from '../dsl/model.ts';

/** The delay before the attempt after `failedAttempt` (1-based). */
export function retryDelayMs(policy: BackoffPolicy, failedAttempt: number, seed: string): number {
  const base =
    policy.backoff === 'fixed' ? policy.delayMs : policy.backoff === 'linear' ? policy.delayMs * failedAttempt : policy.delayMs * 2 ** (failedAttempt - 1);
  const capped = Math.min(base, policy.maxDelayMs);
  if (policy.jitter <= 0) return capped;
  const r = unitHash(`${seed}/${failedAttempt}`);
  return Math.max(0, Math.round(capped * (1 + policy.jitter * (2 * r - 1))));
}

/** FNV-1a of a string, scaled to [0, 1). */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}
