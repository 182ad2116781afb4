/**
 * Validates OpenLineage events against the official schemas in ../shared/spec:
 * the event against OpenLineage.json, and every facet whose name a facet schema
 * defines against that facet schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { specPath } from './workspace.ts';

const dir = specPath('openlineage');
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const core = JSON.parse(fs.readFileSync(path.join(dir, 'OpenLineage.json'), 'utf8')) as { $id: string };
ajv.addSchema(core);
const facetValidators = new Map<string, ValidateFunction>();
for (const f of fs.readdirSync(path.join(dir, 'facets')).filter((x) => x.endsWith('.json'))) {
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'facets', f), 'utf8')) as { $id: string; properties?: Record<string, unknown> };
  ajv.addSchema(schema);
  for (const name of Object.keys(schema.properties ?? {})) facetValidators.set(name, ajv.getSchema(schema.$id)!);
}
const validateEvent = ajv.getSchema(core.$id)!;

/** Every problem with the event, empty when it is valid. */
export function openLineageErrors(event: unknown): string[] {
  const errors: string[] = [];
  if (!validateEvent(event)) errors.push(...(validateEvent.errors ?? []).map((e) => `event${e.instancePath}: ${e.message}`));
  const e = event as { run?: { facets?: object }; job?: { facets?: object }; inputs?: { facets?: object; inputFacets?: object }[]; outputs?: { facets?: object; outputFacets?: object }[] };
  const groups: [string, object | undefined][] = [
    ['run', e.run?.facets],
    ['job', e.job?.facets],
    ...(e.inputs ?? []).flatMap((d, i): [string, object | undefined][] => [[`inputs/${i}`, d.facets], [`inputs/${i}/inputFacets`, d.inputFacets]]),
    ...(e.outputs ?? []).flatMap((d, i): [string, object | undefined][] => [[`outputs/${i}`, d.facets], [`outputs/${i}/outputFacets`, d.outputFacets]]),
  ];
  for (const [where, facets] of groups) {
    for (const [name, facet] of Object.entries((facets ?? {}) as Record<string, unknown>)) {
      const v = facetValidators.get(name);
      if (!v) continue;
      if (!v({ [name]: facet })) errors.push(...(v.errors ?? []).map((x) => `${where}/${name}${x.instancePath}: ${x.message}`));
    }
  }
  return errors;
}

export const knownFacets = (): string[] => [...facetValidators.keys()];
