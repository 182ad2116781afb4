/**
 * The local artifact store, the artifact store port's directory adapter. Outputs are written under `staging/`, checked, and
 * published by an atomic rename into `published/<domain>/<product>/`; a rejected
 * output stays staged and the product's current version is untouched
 * (write-audit-publish). References are `file://` URIs that must resolve inside
 * the store's root; anything else is refused.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { NoetlError } from '../../common/errors.ts';
import type { TableRef } from '../bus/messages.ts';
import type { ArtifactClaim, ArtifactStore } from './artifact-store.ts';

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    fs.mkdirSync(path.join(this.root, 'staging'), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'published'), { recursive: true });
  }

  /** Where a step attempt writes its output before it is checked: in a folder of its own, the only one it may write. */
  stagingPath(executionId: string, step: string, attempt: number): string {
    const dir = path.join(this.root, 'staging', safe(executionId), `${safe(step)}.${attempt}`);
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, 'output.parquet');
  }

  uriOf(file: string): string {
    this.assertInside(file);
    return pathToFileURL(file).href;
  }

  /** The local path of a reference; refuses references outside the root. */
  resolve(uri: string): string {
    let file: string;
    try {
      file = fileURLToPath(uri);
    } catch {
      throw new NoetlError('E_ARTIFACT_OUTSIDE_ROOT', `artifact reference ${uri} is not a file:// URI inside ${this.root}`);
    }
    this.assertInside(file);
    return file;
  }

  /** Size and checksum of a file, streamed so large files are fine. */
  async fingerprint(file: string): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of fs.createReadStream(file)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  /** Verifies a staged output against its checksum and moves it to the product's published folder. */
  async publish(ref: TableRef, productId: string, materializationId: string): Promise<TableRef> {
    const from = this.resolve(ref.uri);
    if (!fs.existsSync(from)) throw new NoetlError('E_ARTIFACT_NOT_FOUND', `staged artifact ${ref.uri} does not exist`);
    const { sha256 } = await this.fingerprint(from);
    if (sha256 !== ref.sha256) throw new NoetlError('E_ARTIFACT_CHECKSUM', `staged artifact ${ref.uri} has sha256 ${sha256}, expected ${ref.sha256}`);
    const to = this.publishedPath(productId, materializationId);
    fs.renameSync(from, to);
    return { ...ref, uri: this.uriOf(to) };
  }

  /** Where a product's version is published (for writes that are not a rename, e.g. a partition merge). */
  publishedPath(productId: string, materializationId: string): string {
    const file = this.publishedFile(productId, materializationId);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return file;
  }

  async verify(ref: TableRef, claim: ArtifactClaim): Promise<void> {
    try {
      await this.check(ref, claim);
    } catch (e) {
      if (e instanceof NoetlError && e.code === 'E_OUTCOME_REJECTED') throw e;
      throw new NoetlError('E_OUTCOME_REJECTED', `table ${ref.uri} does not check out: ${(e as Error).message}`, { cause: e });
    }
  }

  private async check(ref: TableRef, claim: ArtifactClaim): Promise<void> {
    const reject = (why: string): never => {
      throw new NoetlError('E_OUTCOME_REJECTED', `table ${ref.uri} ${why}`);
    };
    const file = this.resolve(ref.uri);
    if (!claim.published) {
      const staging = path.join(this.root, 'staging', safe(claim.executionId)) + path.sep;
      if (!file.startsWith(staging)) reject(`is not in the staging of execution ${claim.executionId}`);
      return;
    }
    const { productId, materializationId } = claim.published;
    if (!materializationId.startsWith(`${claim.executionId}.`)) reject(`claims version ${materializationId}, which execution ${claim.executionId} did not make`);
    if (file !== this.publishedFile(productId, materializationId)) reject(`is not where version ${materializationId} of ${productId} is published`);
    if (!fs.existsSync(file)) reject('does not exist');
    const { sha256 } = await this.fingerprint(file);
    if (sha256 !== ref.sha256) reject(`has sha256 ${sha256}, not the ${ref.sha256} reported`);
  }

  private publishedFile(productId: string, materializationId: string): string {
    const [domain, product] = productId.split('.') as [string, string];
    return path.join(this.root, 'published', safe(domain), safe(product), `${safe(materializationId)}.parquet`);
  }

  /** Removes a staged file once its content lives elsewhere. */
  discard(ref: TableRef): void {
    fs.rmSync(this.resolve(ref.uri), { force: true });
  }

  /**
   * Garbage-collects staging: the staged files of an execution (outputs never
   * published, rejected ones, failed attempts) go once nothing in its staging
   * folder has changed for `maxAgeMs`. The unit is the execution, so a long run
   * that still writes keeps the earlier outputs its later steps read.
   */
  collectStaging(maxAgeMs: number, now = Date.now()): { executions: number; files: number; bytes: number } {
    const staging = path.join(this.root, 'staging');
    const removed = { executions: 0, files: 0, bytes: 0 };
    for (const entry of fs.readdirSync(staging, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(staging, entry.name);
      const files = listFiles(dir);
      const newest = Math.max(fs.statSync(dir).mtimeMs, ...files.map((f) => f.mtimeMs));
      if (now - newest < maxAgeMs) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.executions++;
      removed.files += files.length;
      removed.bytes += files.reduce((n, f) => n + f.size, 0);
    }
    return removed;
  }

  private assertInside(file: string): void {
    const resolved = path.resolve(file);
    const rel = path.relative(this.root, resolved);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new NoetlError('E_ARTIFACT_OUTSIDE_ROOT', `artifact path ${resolved} is outside the store root ${this.root}`);
    }
  }
}

function listFiles(dir: string): fs.Stats[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => fs.statSync(path.join(e.parentPath, e.name)));
}

function safe(part: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(part) || part === '.' || part === '..') {
    throw new NoetlError('E_ARTIFACT_OUTSIDE_ROOT', `"${part}" cannot be part of an artifact path`);
  }
  return part;
}
