/**
 * What one request may be, in one table: the README's HTTP API section lists
 * the same numbers. Anything over a limit is refused with a coded 4xx before a
 * handler runs, so no request can make the server recurse, buffer without end
 * or hand PostgreSQL a value it cannot store.
 */

export const REQUEST_LIMITS = {
  /** The request target (path and query), in bytes: 414 beyond. */
  urlBytes: 8 * 1024,
  /** One path parameter or query value, in characters: 400 beyond. */
  parameterLength: 1_024,
  /** A request body, in bytes: 413 beyond. */
  bodyBytes: 1024 * 1024,
  /** The body of `POST /lineage/batch`, in bytes: 413 beyond. */
  batchBodyBytes: 16 * 1024 * 1024,
  /** Levels of arrays and objects in a JSON body: 400 beyond, checked before parsing. */
  jsonDepth: 64,
  /** One string (value or key) in a JSON body, in characters: 400 beyond. */
  stringLength: 64 * 1024,
} as const;
