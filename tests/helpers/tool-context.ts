/** Runs one tool directly, as a worker would, against a real artifact store and the command's own sandboxed DuckDB. */
import { DuckDBInstance } from '@duckdb/node-api';
import { parseAllowlist } from '../../common/address-policy.ts';
import { NoetlError } from '../../common/errors.ts';
import { createLogger, type PythonSandboxMode } from '../../platform/index.ts';
import type { StepCommand, StepResult } from '../../platform/bus/messages.ts';
import { LocalArtifactStore } from '../../platform/index.ts';
import { commandAccess } from '../../services/worker/sandbox/command-access.ts';
import { DuckDbSandbox } from '../../services/worker/sandbox/duckdb-sandbox.ts';
import { TOOLS, type ToolContext, type ToolLineage, type ToolOutput } from '../../services/worker/tools/index.ts';
import { tempDir } from './workspace.ts';

export interface ToolBench {
  store: LocalArtifactStore;
  /** A database of the test's own, with no sandbox, for making fixtures. */
  duck: DuckDBInstance;
  /** Runs a tool; `output` and `lineage` hold what it reported. */
  run(tool: Record<string, unknown> & { kind: string }, opts?: { workload?: Record<string, unknown>; results?: Record<string, StepResult>; secrets?: Record<string, string>; signal?: AbortSignal; pythonSandbox?: PythonSandboxMode; httpAllow?: string }): Promise<{ result: StepResult; output: ToolOutput; lineage: ToolLineage }>;
  close(): void;
}

export async function toolBench(): Promise<ToolBench> {
  const store = new LocalArtifactStore(tempDir());
  const duck = await DuckDBInstance.create(':memory:');
  const sandbox = new DuckDbSandbox(0);
  let n = 0;
  return {
    store,
    duck,
    async run(tool, opts = {}) {
      const step = `s${++n}`;
      const command = { commandId: `c${n}`, executionId: 'e', playbook: 'd/p', domain: 'd', step, attempt: 1, tool, scope: { workload: opts.workload ?? {}, execution_id: 'e', results: opts.results ?? {}, vars: {} }, consumes: {}, upstream: [], produces: undefined } as StepCommand;
      const output: ToolOutput = {};
      const lineage: ToolLineage = {};
      const secrets = opts.secrets ?? {};
      const outputPath = store.stagingPath('e', step, 1);
      const database = sandbox.forCommand(commandAccess(command, store, outputPath));
      const ctx: ToolContext = {
        signal: opts.signal ?? new AbortController().signal,
        heartbeat: () => undefined,
        log: createLogger({ level: 'error' }),
        command,
        artifacts: store,
        duckdb: database.connect,
        outputPath,
        lineage,
        output,
        secrets: Object.values(secrets),
        python: 'python3',
        pythonSandbox: opts.pythonSandbox ?? 'bwrap',
        httpAllow: parseAllowlist(opts.httpAllow ?? ''),
        credential: (name) => {
          const v = secrets[name];
          if (v === undefined) throw new NoetlError('E_CREDENTIAL_MISSING', `no credential "${name}"`);
          return v;
        },
      };
      try {
        const result = await TOOLS.get(tool.kind)!.run(ctx);
        return { result, output, lineage };
      } finally {
        database.release();
      }
    },
    close: () => duck.closeSync(),
  };
}
