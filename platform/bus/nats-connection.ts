/**
 * How noetl authenticates to NATS and what it makes of NATS's refusals.
 * Credentials come from configuration (user and password, a token, an nkey
 * seed or a .creds file, and TLS files); a URL's own `user:password@` or
 * `token@` part is split off here, so the URL left over can be printed.
 * A refusal that retrying cannot cure (bad credentials, a permission the user
 * lacks, a message over the server's max_payload) is told apart from a server
 * that is merely unreachable.
 */
import type { ConnectionOptions } from '@nats-io/transport-node';
import { credsAuthenticator, nkeyAuthenticator, tokenAuthenticator, usernamePasswordAuthenticator } from '@nats-io/transport-node';

export interface NatsTlsFiles {
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** PEM client certificate and key, for servers that verify clients. */
  certFile?: string;
  keyFile?: string;
}

/** At most one of user/password, token, nkey seed and creds; TLS with any of them. */
export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** An nkey user seed (`SU…`), the content of a seed file. */
  nkeySeed?: string;
  /** The content of a .creds file (a user JWT and its seed). */
  creds?: string;
  /** Set (even empty) to require TLS. */
  tls?: NatsTlsFiles;
}

/** Splits a NATS URL into the URL without credentials and the credentials it carried (`user:password@` or `token@`). */
export function splitNatsUrl(raw: string): { url: string; credentials: NatsCredentials } {
  const parsed = new URL(raw);
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const credentials: NatsCredentials = password !== '' ? { user, password } : user !== '' ? { token: user } : {};
  if (parsed.protocol === 'tls:') credentials.tls = {};
  return { url: parsed.toString().replace(/\/$/, ''), credentials };
}

/** The options nats.js connects with. */
export function connectionOptions(url: string, name: string, inboxPrefix: string, credentials: NatsCredentials = {}): ConnectionOptions {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  const authenticator =
    credentials.user !== undefined
      ? usernamePasswordAuthenticator(credentials.user, credentials.password)
      : credentials.token !== undefined
        ? tokenAuthenticator(credentials.token)
        : credentials.nkeySeed !== undefined
          ? nkeyAuthenticator(encode(credentials.nkeySeed))
          : credentials.creds !== undefined
            ? credsAuthenticator(encode(credentials.creds))
            : undefined;
  return {
    servers: url.replace(/^tls:\/\//, 'nats://'),
    name,
    inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...(authenticator ? { authenticator } : {}),
    ...(credentials.tls ? { tls: { ...credentials.tls } } : {}),
  };
}

export type NatsRefusal = 'credentials' | 'permission' | 'too-large';

/** Why NATS refused, when it is a refusal no retry can cure (looking through `cause`s); undefined otherwise. */
export function natsRefusal(error: unknown): NatsRefusal | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'PermissionViolationError' || /permissions violation/i.test(e.message)) return 'permission';
    if (e.name === 'AuthorizationError' || /authorization violation|authentication expired/i.test(e.message)) return 'credentials';
    if (/max_payload size exceeded|maximum payload exceeded/i.test(e.message)) return 'too-large';
  }
  return undefined;
}
