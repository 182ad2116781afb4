/** Embedders: the port, the local lexical adapter and the OpenAI-compatible one. */
export { cosine, normalize, type Embedder } from './embedder.ts';
export { LocalEmbedder, LOCAL_EMBEDDER_MODEL, wordsOf } from './local-embedder.ts';
export { OpenAiEmbedder, type OpenAiEmbedderOptions } from './openai-embedder.ts';
