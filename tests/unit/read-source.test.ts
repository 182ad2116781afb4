/**
 * Reading a file of the domains folder, on real files: each way a file can be
 * unreadable or unfit is a coded problem with words a team can act on, never a
 * thrown error; links are followed only inside the folder; the size limit
 * holds to the byte. (Permissions are tested through the CLI, as another user:
 * tests/integration/check-files.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { domainsRoot, MAX_SOURCE_BYTES, readSourceText } from '../../platform/domains/read-source.ts';
import { tempDir } from '../helpers/workspace.ts';

describe('reading a source file', () => {
  const outside = tempDir();
  const dir = tempDir();
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });
  const root = domainsRoot(dir) as string;
  const at = (name: string): string => path.join(dir, name);
  const problem = (name: string): [string, string, number, number] | undefined => {
    const found = readSourceText(at(name), root).problem;
    return found && [found.code, found.message, found.line, found.col];
  };

  it('reads UTF-8 text as it is, a byte-order mark included, and follows a link inside the folder', () => {
    fs.writeFileSync(at('plain.yaml'), '\uFEFFa: é\n');
    fs.symlinkSync('plain.yaml', at('alias.yaml'));
    fs.writeFileSync(at('..dots.yaml'), 'a: 1\n');
    assert.equal(readSourceText(at('plain.yaml'), root).text, '\uFEFFa: é\n');
    assert.equal(readSourceText(at('alias.yaml'), root).text, '\uFEFFa: é\n');
    assert.equal(readSourceText(at('..dots.yaml'), root).text, 'a: 1\n', 'a name starting with two dots is still inside');
  });

  it('refuses a file reached through a linked folder that leads outside', () => {
    fs.mkdirSync(path.join(outside, 'products'));
    fs.writeFileSync(path.join(outside, 'products', 'x.odcs.yaml'), 'a: 1\n');
    fs.symlinkSync(path.join(outside, 'products'), at('products'));
    const found = problem('products/x.odcs.yaml')!;
    assert.equal(found[0], 'E_FILE_UNREADABLE');
    assert.equal(found[1], `leads through a symbolic link to ${fs.realpathSync(path.join(outside, 'products', 'x.odcs.yaml'))}, outside the domains folder; only files inside it are read`);
  });

  it('says what is wrong with a directory, a link in a loop, a link to nothing, a link out of the folder and a FIFO', () => {
    fs.mkdirSync(at('folder.yaml'));
    fs.symlinkSync('loop-b.yaml', at('loop-a.yaml'));
    fs.symlinkSync('loop-a.yaml', at('loop-b.yaml'));
    fs.symlinkSync('missing.yaml', at('dangling.yaml'));
    fs.writeFileSync(path.join(outside, 'secret.yaml'), 'token: hunter2\n');
    fs.symlinkSync(path.join(outside, 'secret.yaml'), at('escape.yaml'));
    execFileSync('mkfifo', [at('pipe.yaml')]);
    assert.deepEqual(problem('folder.yaml'), ['E_FILE_UNREADABLE', 'is a directory, not a file', 1, 1]);
    assert.deepEqual(problem('loop-a.yaml'), ['E_FILE_UNREADABLE', 'is a symbolic link in a loop (it leads back to itself)', 1, 1]);
    assert.deepEqual(problem('dangling.yaml'), ['E_FILE_UNREADABLE', 'is a symbolic link to nothing: the path it names does not exist', 1, 1]);
    const escape = problem('escape.yaml')!;
    assert.equal(escape[0], 'E_FILE_UNREADABLE');
    assert.match(escape[1], /^leads through a symbolic link to .*secret\.yaml, outside the domains folder/);
    assert.deepEqual(problem('pipe.yaml'), ['E_FILE_UNREADABLE', 'is not a regular file (a device, FIFO or socket)', 1, 1]);
  });

  it('refuses an empty file and one of blanks alone', () => {
    fs.writeFileSync(at('empty.yaml'), '');
    fs.writeFileSync(at('blank.yaml'), '\n  \n\t\n');
    assert.deepEqual(problem('empty.yaml'), ['E_FILE_INVALID', 'is empty', 1, 1]);
    assert.deepEqual(problem('blank.yaml'), ['E_FILE_INVALID', 'is empty', 1, 1]);
  });

  it('refuses text that is not UTF-8 at the first bad byte, in characters of its line', () => {
    fs.writeFileSync(at('latin1.yaml'), Buffer.concat([Buffer.from('a: 1\nb: 2\nnamé: '), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\n')]));
    assert.deepEqual(problem('latin1.yaml'), ['E_FILE_INVALID', 'is not UTF-8 text: byte 0xE9 at line 3, column 10 is not valid UTF-8; save the file as UTF-8', 3, 10]);
  });

  it(`reads a file of exactly ${MAX_SOURCE_BYTES} bytes and refuses one byte more`, () => {
    fs.writeFileSync(at('limit.yaml'), Buffer.alloc(MAX_SOURCE_BYTES, 'a'));
    fs.writeFileSync(at('over.yaml'), Buffer.alloc(MAX_SOURCE_BYTES + 1, 'a'));
    assert.equal(readSourceText(at('limit.yaml'), root).text?.length, MAX_SOURCE_BYTES);
    assert.deepEqual(problem('over.yaml'), ['E_FILE_INVALID', `is over the 4 MiB limit of a source file (${MAX_SOURCE_BYTES + 1} bytes); split it`, 1, 1]);
  });
});
