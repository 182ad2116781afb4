/**
 * What to look for when a secret may sit in table data, where a scan must be a
 * plain substring search the database can run: each piece of the secret
 * (secret-redaction.ts) as itself, percent-encoded, form-encoded, JSON-escaped,
 * in hex, and as the base64 characters its bytes alone decide at each of the
 * three byte alignments (standard and URL-safe). The redactor of events finds
 * more (mixed encodings); these are the forms a value takes in a column.
 */
import { MIN_BASE64_LENGTH, secretPieces } from './secret-redaction.ts';

export function secretNeedles(secrets: Iterable<string>): string[] {
  const needles = new Set<string>();
  for (const secret of secrets) {
    for (const piece of secretPieces(secret)) {
      const bytes = Buffer.from(piece, 'utf8');
      needles.add(piece);
      needles.add(encodeURIComponent(piece));
      needles.add(new URLSearchParams({ s: piece }).toString().slice(2));
      needles.add(JSON.stringify(piece).slice(1, -1));
      needles.add(bytes.toString('hex'));
      needles.add(bytes.toString('hex').toUpperCase());
      for (const core of base64Cores(bytes)) needles.add(core);
    }
  }
  return [...needles].filter((n) => n.length > 0);
}

/** For each byte alignment, the base64 characters the bytes alone decide, in both alphabets. */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let alignment = 0; alignment < 3; alignment++) {
    const padded = Buffer.concat([Buffer.alloc(alignment), bytes]);
    const from = Math.ceil((8 * alignment) / 6);
    const to = Math.floor((8 * (alignment + bytes.length)) / 6);
    if (to - from < MIN_BASE64_LENGTH) continue;
    cores.push(padded.toString('base64').slice(from, to), padded.toString('base64url').slice(from, to));
  }
  return cores;
}
