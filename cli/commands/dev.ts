/**
 * `noetl dev` (what `npm start` runs): builds every playbook of every domain in
 * dependency order on the embedded runtime, then serves the registry.
 */
import { buildApp } from '../../services/registry/index.ts';
import { buildOrder, PLAYBOOK_TOOL, type Playbook } from '../../services/orchestrator/index.ts';
import type { Print } from '../progress.ts';
import type { Runtime } from '../runtime.ts';
import { buildPlaybook, type BuildResult } from './build.ts';

/** The playbooks `dev` builds: all but sub-playbooks, which run inside the playbooks that call them. */
function buildable(rt: Runtime): { playbooks: Playbook[]; called: Set<string> } {
  const called = new Set(rt.playbooks.flatMap((p) => p.steps.flatMap((s) => (s.tool.kind === PLAYBOOK_TOOL ? [String(s.tool.path)] : []))));
  return { playbooks: rt.playbooks.filter((p) => !called.has(p.ref)), called };
}

export async function buildAll(rt: Runtime, print: Print): Promise<BuildResult[]> {
  const { playbooks, called } = buildable(rt);
  const { order, cyclic } = buildOrder(playbooks);
  for (const p of cyclic) print(`! ${p.ref} not built: it consumes products in a cycle with other playbooks`);
  const inside = called.size > 0 ? ` (sub-playbooks ${[...called].sort().join(', ')} run inside their callers)` : '';
  print(`building ${order.length} playbooks of ${rt.snapshot.domains.length} domains: ${order.map((p) => p.ref).join(', ')}${inside}`);
  const results: BuildResult[] = [];
  const failed = new Set<string>();
  for (const p of order) {
    const blocked = p.steps.flatMap((s) => s.consumes).filter((c) => failed.has(c));
    if (blocked.length > 0) {
      print(`- ${p.ref} not built: it consumes ${blocked.join(', ')}, whose build failed`);
      for (const s of p.steps) if (s.produces) failed.add(s.produces);
      continue;
    }
    try {
      const r = await buildPlaybook(rt, p.ref, {}, print);
      results.push(r);
      if (r.state.status !== 'completed') for (const s of p.steps) if (s.produces) failed.add(s.produces);
    } catch (e) {
      print(`✘ ${p.ref}: ${(e as Error).message}`);
      for (const s of p.steps) if (s.produces) failed.add(s.produces);
    }
  }
  const ok = results.filter((r) => r.state.status === 'completed').length;
  print(`built ${ok}/${order.length} playbooks`);
  return results;
}

export async function devCommand(rt: Runtime, print: Print, options: { serve: boolean }): Promise<number> {
  const results = await buildAll(rt, print);
  const failures = results.filter((r) => r.state.status !== 'completed').length + (buildable(rt).playbooks.length - results.length);
  if (!options.serve) return failures > 0 ? 1 : 0;
  const app = await buildApp({ db: rt.database.db, log: rt.log.child({ part: 'registry' }), mode: 'embedded', bus: rt.bus });
  const address = await app.listen({ host: rt.config.host, port: rt.config.port });
  print(`catalog at ${address.replace('127.0.0.1', 'localhost')}  (try: curl ${address}/products)  — Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  print('stopping…');
  await app.close();
  return 0;
}
