/** A run's workload against the playbook's workload schema, checked before anything is recorded. */
import { Ajv2019 } from 'ajv/dist/2019.js';
import { NoetlError } from '../../../common/errors.ts';
import type { Playbook } from '../dsl/index.ts';

const ajv = new Ajv2019({ allErrors: true, strict: false });

/** The workload of a run must fit the playbook's workload schema, if it has one. */
export function checkWorkload(playbook: Playbook, workload: Record<string, unknown>): void {
  if (!playbook.workloadSchema) return;
  const validate = ajv.compile(playbook.workloadSchema);
  if (validate(workload)) return;
  const problems = (validate.errors ?? []).map((e) => `workload${e.instancePath.replaceAll('/', '.')} ${e.message ?? 'is invalid'}`);
  throw new NoetlError('E_WORKLOAD_INVALID', `the workload of ${playbook.ref} does not fit its workload_schema: ${problems.join('; ')}`, { details: { problems } });
}
