/**
 * The embedder port's conformance suite: every adapter gives one unit vector
 * of its length per text, in order, the same for the same text, and puts texts
 * that share words nearer than texts that do not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cosine, type Embedder } from '../../platform/embedder/index.ts';

export interface EmbedderAdapter {
  name: string;
  open(): Promise<Embedder>;
}

export function embedderConformance(adapter: EmbedderAdapter): void {
  describe(`embedder conformance: ${adapter.name}`, () => {
    it('gives one unit vector of its length per text, in the order given', async () => {
      const embedder = await adapter.open();
      const texts = ['risk application scores', 'patient cohort by age', 'ü', 'x'.repeat(5000)];
      const vectors = await embedder.embed(texts);
      assert.equal(vectors.length, texts.length);
      for (const v of vectors) {
        assert.equal(v.length, embedder.dimensions);
        assert.ok(Math.abs(cosine(v, v) - 1) < 1e-6, 'unit length');
      }
      const alone = await embedder.embed([texts[1]!]);
      assert.deepEqual(alone[0], vectors[1], 'the same text gives the same vector, alone or in a batch');
    });

    it('gives nothing for no texts', async () => {
      assert.deepEqual(await (await adapter.open()).embed([]), []);
    });

    it('puts texts that share words nearer than texts that do not', async () => {
      const [query, near, far] = await (
        await adapter.open()
      ).embed(['customer churn score', 'churn score of each customer', 'weather forecast for tomorrow']);
      assert.ok(
        cosine(query!, near!) > cosine(query!, far!) + 0.1,
        `${cosine(query!, near!)} vs ${cosine(query!, far!)}`,
      );
    });
  });
}
