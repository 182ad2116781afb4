/**
 * Where OpenLineage events go besides noetl's own registry: any OpenLineage
 * HTTP endpoint (Marquez, another noetl registry, a vendor), an NDJSON file, or
 * a JetStream subject. One port, one conformance suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NoetlError } from '../../common/errors.ts';
import type { RunEvent } from '../../lineage/index.ts';
import type { Bus } from '../bus/bus.ts';

export interface LineageTransport {
  readonly name: string;
  send(events: readonly RunEvent[]): Promise<void>;
}

/** The OpenLineage HTTP transport: one event per POST, JSON body. */
export class HttpLineageTransport implements LineageTransport {
  readonly name: string;
  constructor(private readonly url: string, private readonly options: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    this.name = `http ${url}`;
  }

  async send(events: readonly RunEvent[]): Promise<void> {
    for (const e of events) {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body: JSON.stringify(e),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      if (!res.ok) throw new NoetlError('E_TOOL_FAILED', `lineage endpoint ${this.url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    }
  }
}

/** Appends one JSON event per line. */
export class FileLineageTransport implements LineageTransport {
  readonly name: string;
  constructor(private readonly file: string) {
    this.name = `file ${file}`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  async send(events: readonly RunEvent[]): Promise<void> {
    if (events.length === 0) return;
    await fs.promises.appendFile(this.file, events.map((e) => JSON.stringify(e) + '\n').join(''));
  }
}

/** Publishes each event on `<deployment>.lineage.<job namespace host>` (the deployment's lineage stream over JetStream), de-duplicated by run and type. */
export class BusLineageTransport implements LineageTransport {
  readonly name: string;
  private readonly prefix: string;
  /** `prefix` must lie under the bus's lineage subject (default: that subject itself). */
  constructor(private readonly bus: Bus, prefix?: string) {
    this.prefix = prefix ?? bus.names.subjects.lineage;
    this.name = `bus ${this.prefix}`;
  }

  async send(events: readonly RunEvent[]): Promise<void> {
    for (const e of events) {
      const token = e.job.namespace.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9_-]/g, '_') || 'default';
      await this.bus.publish(`${this.prefix}.${token}`, e, { msgId: `${e.run.runId}:${e.eventType}:${e.eventTime}` });
    }
  }
}

/** Reads NOETL_LINEAGE_TRANSPORTS specs: an http(s) URL, `file:<path>`, or `bus`. */
export function lineageTransports(specs: readonly string[], bus: Bus): LineageTransport[] {
  return specs.map((s) => {
    if (s.startsWith('http://') || s.startsWith('https://')) return new HttpLineageTransport(s);
    if (s.startsWith('file:')) return new FileLineageTransport(path.resolve(s.slice(5)));
    if (s === 'bus' || s === 'nats') return new BusLineageTransport(bus);
    throw new NoetlError('E_CONFIG_INVALID', `lineage transport "${s}" is not an http(s) URL, file:<path> or bus`, { details: { variable: 'NOETL_LINEAGE_TRANSPORTS' } });
  });
}
