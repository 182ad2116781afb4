/**
 * Commands that talk to a running server over HTTP: `run --server`, `status`,
 * `cancel`, `logs`. Events arrive as server-sent events and print as the same
 * progress lines as a local run.
 */
import { NoetlError } from '../../common/errors.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { Progress, type Print } from '../progress.ts';

async function call<T>(server: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(`/api/v1${path}`, server), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch (e) {
    throw new NoetlError('E_REQUEST_INVALID', `cannot reach the noetl server at ${server}: ${(e as Error).message} (start one with \`noetl server\`, or pass --server)`, { cause: e });
  }
  const json = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) {
    const code = (json.error?.code ?? 'E_REQUEST_INVALID') as NoetlError['code'];
    throw new NoetlError(code, json.error?.message ?? `${method} ${path}: HTTP ${res.status}`);
  }
  return json;
}

/** Prints each event of an execution as it happens; resolves with the terminal event, if one came. */
export async function followEvents(server: string, id: string, print: Print): Promise<ExecutionEvent | undefined> {
  const res = await fetch(new URL(`/api/v1/executions/${id}/events`, server));
  if (!res.ok || !res.body) {
    const j = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    throw new NoetlError((j.error?.code ?? 'E_REQUEST_INVALID') as NoetlError['code'], j.error?.message ?? `HTTP ${res.status}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let last: ExecutionEvent | undefined;
  const progress = new Progress();
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const e = JSON.parse(data.slice(6)) as ExecutionEvent;
      last = e;
      const line = progress.line(e);
      if (line) print(line);
    }
  }
  return last && last.type.startsWith('execution.') && last.type !== 'execution.started' ? last : undefined;
}

export async function runRemote(server: string, playbook: string, workload: Record<string, unknown>, print: Print): Promise<number> {
  const t0 = Date.now();
  print(`▶ ${playbook} on ${server}`);
  const { id } = await call<{ id: string }>(server, 'POST', '/executions', { playbook, workload });
  print(`  execution ${id}`);
  const end = await followEvents(server, id, print);
  const ms = Date.now() - t0;
  if (end?.type === 'execution.completed') {
    print(`✔ ${playbook} completed in ${ms} ms (execution ${id})`);
    return 0;
  }
  print(`✘ ${playbook} ${end?.type === 'execution.cancelled' ? 'was cancelled' : 'failed'} in ${ms} ms (execution ${id})`);
  if (end?.type === 'execution.failed') print(`  ${end.error.code}: ${end.error.message.split('\n').join('\n  ')}`);
  return 1;
}

interface ExecutionView {
  id: string;
  playbook: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
  steps: { name: string; status: string; attempt: number; durationMs?: number; worker?: string }[];
  events: { seq: number; type: string; step: string | null; at: string }[];
}

export async function statusCommand(server: string, id: string, print: Print): Promise<number> {
  const e = await call<ExecutionView>(server, 'GET', `/executions/${id}`);
  print(`${e.id}  ${e.playbook}  ${e.status}  started ${e.startedAt}${e.finishedAt ? `  finished ${e.finishedAt}` : ''}`);
  for (const s of e.steps) print(`  ${s.status.padEnd(10)} ${s.name}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}${s.durationMs !== undefined ? `  ${s.durationMs} ms` : ''}${s.worker ? `  on ${s.worker}` : ''}`);
  if (e.error) print(`  ${e.error.code}: ${e.error.message}`);
  return e.status === 'failed' ? 1 : 0;
}

export async function cancelCommand(server: string, id: string, print: Print): Promise<number> {
  const r = await call<{ id: string; status: string }>(server, 'POST', `/executions/${id}/cancel`, { reason: 'cancelled from the command line' });
  print(`${r.id}: ${r.status}`);
  return 0;
}

export async function logsCommand(server: string, id: string, follow: boolean, print: Print): Promise<number> {
  if (follow) {
    await followEvents(server, id, print);
    return 0;
  }
  const e = await call<ExecutionView>(server, 'GET', `/executions/${id}`);
  for (const ev of e.events) print(`${ev.at}  ${ev.type}${ev.step ? `  ${ev.step}` : ''}`);
  return 0;
}
