/**
 * Every name a deployment uses on NATS, derived in one place from its
 * deployment name (NOETL_DEPLOYMENT): subjects, streams, durable consumers and
 * reply inboxes. Two deployments share nothing on one nats-server: their
 * subjects start with different tokens, their streams have different names,
 * and durables live inside their stream. The default deployment `noetl` keeps
 * the names noetl used before deployments had names, so existing streams and
 * consumers carry on.
 */
import { NoetlError } from '../../common/errors.ts';

export const DEFAULT_DEPLOYMENT = 'noetl';

/**
 * Lowercase, so that upper-casing it into a stream name cannot make two
 * deployments collide; one subject token; short enough for stream names.
 */
const DEPLOYMENT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** Which side of a deployment a connection serves: it decides the reply inbox, so NATS permissions can tell them apart. */
export type BusRole = 'server' | 'worker';

export interface StreamNames {
  name: string;
  subjects: string[];
}

export interface BusNames {
  readonly deployment: string;
  readonly subjects: {
    /** JetStream: step commands of one worker pool. */
    commands(pool: string): string;
    /** JetStream: events of one execution. */
    events(executionId: string): string;
    allEvents: string;
    /** JetStream: the prefix OpenLineage events are published under (`<prefix>.<namespace host>`). */
    lineage: string;
    /** Core NATS (not stored): cancellations. */
    cancel: string;
    /** Core NATS (not stored): worker announcements. */
    workers: string;
    /** Core NATS: everything of the control plane. */
    allControl: string;
  };
  readonly streams: { commands: StreamNames; events: StreamNames; lineage: StreamNames };
  /** Durable consumer names; a durable belongs to its stream, so the stream's name scopes it. */
  readonly durables: { orchestrator: string; workers(pool: string): string };
  /** The reply-subject prefix of a connection (`_INBOX_<deployment>.<role>`), so permissions can grant each role its own inbox. */
  inbox(role: BusRole): string;
}

export function isDeploymentName(name: string): boolean {
  return DEPLOYMENT_NAME.test(name);
}

/** A description of a good deployment name, for error messages. */
export const DEPLOYMENT_NAME_RULE = 'a lowercase letter, then up to 31 lowercase letters, digits, "_" or "-" (e.g. noetl, team-a)';

/** The names of one deployment (default `noetl`). */
export function busNames(deployment: string = DEFAULT_DEPLOYMENT): BusNames {
  if (!isDeploymentName(deployment)) {
    throw new NoetlError('E_CONFIG_INVALID', `deployment name ${JSON.stringify(deployment)} is invalid: expected ${DEPLOYMENT_NAME_RULE}`, { details: { variable: 'NOETL_DEPLOYMENT' } });
  }
  const stream = (kind: string): StreamNames => ({ name: `${deployment.toUpperCase()}_${kind.toUpperCase()}`, subjects: [`${deployment}.${kind}.>`] });
  return {
    deployment,
    subjects: {
      commands: (pool) => `${deployment}.commands.${pool}`,
      events: (executionId) => `${deployment}.events.${executionId}`,
      allEvents: `${deployment}.events.>`,
      lineage: `${deployment}.lineage`,
      cancel: `${deployment}.control.cancel`,
      workers: `${deployment}.control.workers`,
      allControl: `${deployment}.control.>`,
    },
    streams: { commands: stream('commands'), events: stream('events'), lineage: stream('lineage') },
    durables: { orchestrator: 'orchestrator', workers: (pool) => `workers-${pool}` },
    inbox: (role) => `_INBOX_${deployment}.${role}`,
  };
}
