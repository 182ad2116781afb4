/**
 * The artifact store port: where tables live while steps pass them by
 * reference. Write-audit-publish: a step writes under staging, the gate checks
 * the staged file, publishing verifies its checksum and moves it atomically;
 * references are URIs that must resolve inside the store, and unpublished
 * staging is collected after an age. The orchestrator checks what workers claim
 * (`verify`) before it records it. The local directory is the one adapter so
 * far (local-store.ts); object storage would come behind the same port, and the
 * conformance suite in tests/integration/artifact-store.test.ts runs against
 * every adapter.
 */
import type { TableRef } from '../bus/messages.ts';

export interface ArtifactStore {
  /** Where a step attempt writes its output before it is checked: a path tools and DuckDB can write, in a folder of the attempt's own. */
  stagingPath(executionId: string, step: string, attempt: number): string;
  /** The reference of a file in the store. */
  uriOf(file: string): string;
  /** The readable location of a reference; E_ARTIFACT_OUTSIDE_ROOT for anything outside the store. */
  resolve(uri: string): string;
  /** Size and checksum of a stored file. */
  fingerprint(file: string): Promise<{ bytes: number; sha256: string }>;
  /** Verifies a staged output against its checksum and publishes it as a version of the product, atomically. */
  publish(ref: TableRef, productId: string, materializationId: string): Promise<TableRef>;
  /** Where a product version is written when publishing is not a move (e.g. a partition merge). */
  publishedPath(productId: string, materializationId: string): string;
  /** Drops a staged file whose content lives elsewhere now. */
  discard(ref: TableRef): void;
  /**
   * Checks a worker's claim about a table before it is recorded: a staged
   * result must lie in its execution's staging; a published version must be the
   * version `materializationId` (made by that execution) of `productId`, and its
   * file must have the reference's checksum. Throws E_OUTCOME_REJECTED saying why.
   */
  verify(ref: TableRef, claim: ArtifactClaim): Promise<void>;
  /** Removes the staging of executions untouched for `maxAgeMs`. */
  collectStaging(maxAgeMs: number, now?: number): { executions: number; files: number; bytes: number };
}

/** Where a reported table should be: staged by an execution, or published by it as a version of a product. */
export type ArtifactClaim = { executionId: string; published?: { productId: string; materializationId: string } };
