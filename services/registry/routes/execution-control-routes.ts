/**
 * Starting, cancelling and following executions. The registry does not run
 * executions itself: the composition root hands it an `ExecutionControl` (the
 * orchestrator, in the same server process).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import type { Db, ExecutionEvent } from '../../../platform/index.ts';
import { getExecution } from '../catalog/queries.ts';

export interface ExecutionControl {
  start(playbook: string, workload: Record<string, unknown>): Promise<string>;
  cancel(executionId: string, reason: string): Promise<void>;
  onEvent(listener: (e: ExecutionEvent) => void): () => void;
}

const TERMINAL = new Set(['execution.completed', 'execution.failed', 'execution.cancelled']);

function finished(id: string, status: string): NoetlError {
  return new NoetlError('E_EXECUTION_FINISHED', `execution ${id} has already ended (${status}); there is nothing to cancel`, { details: { status } });
}

export function executionControlRoutes(db: Db, control: ExecutionControl) {
  return (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { playbook: string; workload?: Record<string, unknown> } }>(
      '/executions',
      {
        schema: {
          body: {
            type: 'object',
            required: ['playbook'],
            additionalProperties: false,
            properties: { playbook: { type: 'string', pattern: '^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$' }, workload: { type: 'object' } },
          },
        },
      },
      async (req, reply) => {
        const id = await control.start(req.body.playbook, req.body.workload ?? {});
        return reply.status(201).send({ id, playbook: req.body.playbook, status: 'running' });
      },
    );

    app.post<{ Params: { id: string }; Body: { reason?: string } }>(
      '/executions/:id/cancel',
      {
        schema: {
          body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1_000 } } },
        },
        // No body at all is a cancel without a reason.
        preValidation: (req, _reply, done) => {
          req.body ??= {};
          done();
        },
      },
      async (req, reply) => {
        const before = await getExecution(db, req.params.id);
        if (before.status !== 'running') throw finished(before.id, before.status);
        await control.cancel(req.params.id, req.body.reason ?? 'cancelled through the API');
        const after = await getExecution(db, req.params.id);
        // It ended on its own between the look and the cancel.
        if (after.status !== 'cancelled' && after.status !== 'running') throw finished(after.id, after.status);
        return reply.status(202).send({ id: after.id, status: after.status });
      },
    );

    // Server-sent events: the log so far, then live events, ending after the execution ends.
    app.get<{ Params: { id: string } }>('/executions/:id/events', async (req, reply) => {
      await getExecution(db, req.params.id);
      streamEvents(db, control, req.params.id, reply);
    });
    return Promise.resolve();
  };
}

function streamEvents(db: Db, control: ExecutionControl, id: string, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const sent = new Set<string>();
  const buffered: ExecutionEvent[] = [];
  let replayed = false;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    off();
    clearInterval(ping);
    res.end();
  };
  const send = (e: ExecutionEvent): void => {
    if (ended || sent.has(e.eventId)) return;
    sent.add(e.eventId);
    const { lineage: _lineage, ...event } = e;
    res.write(`id: ${e.eventId}\nevent: ${e.type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (TERMINAL.has(e.type)) end();
  };
  const off = control.onEvent((e) => {
    if (e.executionId !== id) return;
    if (replayed) send(e);
    else buffered.push(e);
  });
  const ping = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  res.on('close', end);
  void db
    .selectFrom('events')
    .select('payload')
    .where('execution_id', '=', id)
    .orderBy('seq')
    .execute()
    .then((rows) => {
      for (const r of rows) send(r.payload as ExecutionEvent);
      replayed = true;
      for (const e of buffered) send(e);
    })
    .catch(() => end());
}
