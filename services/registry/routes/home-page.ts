/** A plain HTML page listing the catalog, so a browser at the root shows something useful. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../../platform/index.ts';
import { listProducts } from '../catalog/queries.ts';

const esc = (s: string | number | null | undefined): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function homePage(db: Db) {
  return async (_req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const products = await listProducts(db);
    const rows = products
      .map((p) => {
        const q = p.lastQuality ? (p.lastQuality.passed ? 'passed' : `failed: ${p.lastQuality.failed.join(', ')}`) : 'never built';
        return `<tr><td><a href="/api/v1/products/${esc(p.id)}">${esc(p.id)}</a></td><td>${esc(p.contractVersion)}</td><td>${esc(p.owners.join(', '))}</td><td>${esc(p.currentVersion?.rows ?? '')}</td><td>${esc(q)}</td></tr>`;
      })
      .join('\n');
    await reply.type('text/html').send(`<!doctype html><html><head><meta charset="utf-8"><title>noetl catalog</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}</style></head>
<body><h1>noetl catalog</h1><table><thead><tr><th>product</th><th>contract</th><th>owners</th><th>rows</th><th>last quality</th></tr></thead><tbody>
${rows}
</tbody></table><p>JSON: <a href="/api/v1/products">/api/v1/products</a> · <a href="/api/v1/executions">/api/v1/executions</a></p></body></html>`);
  };
}
