/**
 * The embedder port: text in, unit vectors out, in the same order. Two
 * adapters pass one conformance suite (tests/conformance/embedder-suite.ts):
 * a local, deterministic, lexical embedder that needs no download and no
 * network (local-embedder.ts), and any OpenAI-compatible embeddings endpoint
 * (openai-embedder.ts). A vector index keeps one collection per `model`, so
 * vectors of different embedders never mix.
 */

export interface Embedder {
  /** Names the vectors this embedder makes, e.g. `noetl-lexical-v1` or `openai:text-embedding-3-small`. */
  readonly model: string;
  readonly dimensions: number;
  /** One unit-length vector per text, in the order given. */
  embed(texts: readonly string[]): Promise<number[][]>;
}

/** Scales a vector to unit length (a zero vector stays zero). */
export function normalize(vector: number[]): number[] {
  let norm = 0;
  for (const x of vector) norm += x * x;
  if (norm === 0) return vector;
  const scale = 1 / Math.sqrt(norm);
  return vector.map((x) => x * scale);
}

/** Cosine similarity of two unit vectors. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * (b[i] ?? 0);
  return dot;
}
