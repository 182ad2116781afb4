/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, …),
 * through the `openai` client with its base URL: texts go in batches, each
 * request is retried on 429 and 5xx with backoff and bounded by a timeout, and
 * vectors come back as floats (`encoding_format: 'float'`: some servers'
 * base64 differs) and in the order of the texts, whatever order the server
 * answers in.
 */
import OpenAI from 'openai';
import { NoetlError } from '../../common/errors.ts';
import { normalize, type Embedder } from './embedder.ts';

export interface OpenAiEmbedderOptions {
  baseUrl: string;
  model: string;
  apiKey: string;
  /** Texts per request. */
  batchSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** The vectors' length, when known ahead (otherwise learnt from the first answer). */
  dimensions?: number;
}

export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  private readonly client: OpenAI;
  private known: number | undefined;

  constructor(private readonly options: OpenAiEmbedderOptions) {
    this.model = `openai:${options.model}`;
    this.known = options.dimensions;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 3,
    });
  }

  get dimensions(): number {
    if (this.known === undefined)
      throw new NoetlError(
        'E_EMBEDDER_FAILED',
        `the dimensions of ${this.model} are not known until it has embedded a text`,
      );
    return this.known;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const out: number[][] = [];
    const size = this.options.batchSize ?? 64;
    for (let i = 0; i < texts.length; i += size) out.push(...(await this.batch(texts.slice(i, i + size))));
    return out;
  }

  private async batch(texts: string[]): Promise<number[][]> {
    let answer: Awaited<ReturnType<OpenAI['embeddings']['create']>>;
    try {
      answer = await this.client.embeddings.create({
        model: this.options.model,
        input: texts,
        encoding_format: 'float',
      });
    } catch (e) {
      const status = (e as { status?: number }).status;
      const why = status === undefined ? (e as Error).message : `answered ${status}`;
      throw new NoetlError(
        'E_EMBEDDER_FAILED',
        `the embeddings endpoint ${this.options.baseUrl} (${this.options.model}) ${why}`,
        { cause: e },
      );
    }
    const vectors = new Array<number[] | undefined>(texts.length);
    for (const item of answer.data) vectors[item.index] = normalize(item.embedding);
    if (vectors.some((v) => v === undefined) || answer.data.length !== texts.length) {
      throw new NoetlError(
        'E_EMBEDDER_FAILED',
        `the embeddings endpoint gave ${answer.data.length} vectors for ${texts.length} texts`,
      );
    }
    const lengths = new Set(vectors.map((v) => v!.length));
    this.known ??= vectors[0]!.length;
    if (lengths.size !== 1 || !lengths.has(this.known)) {
      throw new NoetlError(
        'E_EMBEDDER_FAILED',
        `the embeddings endpoint gave vectors of ${[...lengths].join(', ')} dimensions, expected ${this.known}`,
      );
    }
    return vectors as number[][];
  }
}
