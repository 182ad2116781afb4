/** The tools a worker can run, by kind. */
import { clickhouseTool } from './clickhouse-tool.ts';
import { duckdbTool } from './duckdb-tool.ts';
import { httpTool } from './http-tool.ts';
import { noopTool } from './noop-tool.ts';
import { postgresTool } from './postgres-tool.ts';
import { pythonTool } from './python-tool.ts';
import { qdrantTool } from './qdrant-tool.ts';
import { toolRunner } from './run-tools.ts';
import type { Tool } from './tool.ts';

export type { Tool, ToolContext, ToolLineage, ToolOutput } from './tool.ts';
export { describeParquet } from './duckdb-tool.ts';

export const TOOLS: ReadonlyMap<string, Tool> = new Map([clickhouseTool, duckdbTool, httpTool, noopTool, postgresTool, pythonTool, qdrantTool].map((t) => [t.kind, t]));
export const TOOL_KINDS: ReadonlySet<string> = new Set(TOOLS.keys());
/** Runs a command's tool, or its task list. */
export const runTools = toolRunner(TOOLS);
