/**
 * The local embedder: lexical, deterministic, no model to download and no
 * network. It is honest about what it is: texts that share words (and parts of
 * words) come out close; texts that mean the same in other words do not. What
 * it does well is identifiers: `customer_id`, `customerId` and "customer id"
 * are the same words to it, and `risk.application_scores` matches "application
 * scores".
 *
 * Features, each hashed (FNV-1a) into `dimensions` buckets with a sign from
 * another bit of the hash, so collisions cancel rather than add up:
 *   - words: identifiers split at `_`, `.`, `-`, `/` and camelCase, lower-cased,
 *     a plural `s` dropped (weight 1, sublinear in repeats);
 *   - pairs of neighbouring words (weight 0.5): word order counts a little;
 *   - character trigrams of each word, with its edges marked (weight 0.25 in
 *     all per word): a word misspelt or cut still lands near itself.
 * The vector is scaled to unit length.
 */
import { normalize, type Embedder } from './embedder.ts';

export const LOCAL_EMBEDDER_MODEL = 'noetl-lexical-v1';

export class LocalEmbedder implements Embedder {
  readonly model = LOCAL_EMBEDDER_MODEL;

  constructor(readonly dimensions = 512) {}

  embed(texts: readonly string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => this.embedOne(t)));
  }

  private embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const counts = new Map<string, number>();
    const add = (feature: string, weight: number): void =>
      void counts.set(feature, (counts.get(feature) ?? 0) + weight);
    const words = wordsOf(text);
    for (const word of words) {
      add(`w:${word}`, 1);
      const grams = trigrams(word);
      for (const g of grams) add(`g:${g}`, 0.25 / grams.length);
    }
    for (let i = 1; i < words.length; i++) add(`p:${words[i - 1]!} ${words[i]!}`, 0.5);
    for (const [feature, weight] of counts) {
      const h = fnv1a(feature);
      const sign = h & 0x80000000 ? -1 : 1;
      // Repeats count less and less: a word said ten times is not ten times the topic.
      vector[h % this.dimensions]! += sign * (weight <= 1 ? weight : 1 + Math.log(weight));
    }
    return normalize(vector);
  }
}

/** The words of a text: identifiers split into their parts, lower-cased, plurals made singular. */
export function wordsOf(text: string): string[] {
  const spaced = text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase();
  return spaced
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .map(singular);
}

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

function trigrams(word: string): string[] {
  const marked = `<${word}>`;
  const out: string[] = [];
  for (let i = 0; i + 3 <= marked.length; i++) out.push(marked.slice(i, i + 3));
  return out;
}

/** FNV-1a, 32 bits, over the UTF-16 code units. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
