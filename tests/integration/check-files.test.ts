/**
 * `noetl check` on a domains folder with every kind of file problem beside the
 * shipped domains: each problem is one coded diagnostic naming the file
 * (never E_INTERNAL, never a crash), every other file is checked as usual, and
 * the exit status is 1. Unreadable files are tested with permissions that
 * apply: the command runs without root's power to read anything.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MAX_SOURCE_BYTES } from '../../platform/domains/read-source.ts';
import { runNoetl } from '../helpers/cli.ts';
import { tempDir, workspace } from '../helpers/workspace.ts';

const SHIPPED = /4 domains, 4 contracts, 5 valid playbooks checked$/m;

describe('noetl check: file problems', () => {
  const ws = workspace();
  const outside = tempDir();
  after(() => {
    fs.rmSync(outside, { recursive: true, force: true });
    ws.cleanup();
  });

  it('reports each bad file by its path and code, checks all the others, exits 1', async () => {
    const playbooks = path.join(ws.domains, 'risk/playbooks');
    fs.mkdirSync(path.join(playbooks, 'folder.yaml'));
    fs.symlinkSync('loop_b.yaml', path.join(playbooks, 'loop_a.yaml'));
    fs.symlinkSync('loop_a.yaml', path.join(playbooks, 'loop_b.yaml'));
    fs.symlinkSync('gone.yaml', path.join(playbooks, 'dangling.yaml'));
    fs.writeFileSync(path.join(outside, 'secret.yaml'), 'token: hunter2\n');
    fs.symlinkSync(path.join(outside, 'secret.yaml'), path.join(playbooks, 'escape.yaml'));
    fs.writeFileSync(path.join(playbooks, 'latin1.yaml'), Buffer.from('metadata: { name: caf\xe9 }\n', 'latin1'));
    fs.writeFileSync(path.join(playbooks, 'empty.yaml'), '');
    fs.writeFileSync(path.join(playbooks, 'huge.yaml'), Buffer.alloc(MAX_SOURCE_BYTES + 1, '#'));
    execFileSync('mkfifo', [path.join(playbooks, 'pipe.yaml')]);
    fs.mkdirSync(path.join(ws.domains, 'healthcare/products/cohort.odcs.yaml'));
    fs.symlinkSync('nowhere', path.join(ws.domains, 'ghost'));
    fs.mkdirSync(path.join(ws.domains, 'ops'));
    fs.writeFileSync(path.join(ws.domains, 'ops/domain.yaml'), 'owners: [ops@example.com]\n');
    fs.writeFileSync(path.join(ws.domains, 'ops/playbooks'), 'a file where a folder should be\n');

    const r = await runNoetl(['check'], { cwd: ws.root });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    assert.doesNotMatch(r.stdout, /E_INTERNAL/);
    const lines = r.stdout.trim().split('\n');
    const p = 'domains/risk/playbooks';
    assert.deepEqual(lines.slice(0, -1), [
      'domains/ghost:1:1: E_FILE_UNREADABLE: domains/ghost is a symbolic link to nothing: the path it names does not exist',
      'domains/healthcare/products/cohort.odcs.yaml:1:1: E_FILE_UNREADABLE: domains/healthcare/products/cohort.odcs.yaml is a directory, not a file',
      'domains/ops/playbooks:1:1: E_FILE_UNREADABLE: domains/ops/playbooks should be a folder, but is a file',
      `${p}/dangling.yaml:1:1: E_FILE_UNREADABLE: ${p}/dangling.yaml is a symbolic link to nothing: the path it names does not exist`,
      `${p}/empty.yaml:1:1: E_FILE_INVALID: ${p}/empty.yaml is empty`,
      `${p}/escape.yaml:1:1: E_FILE_UNREADABLE: ${p}/escape.yaml leads through a symbolic link to ${fs.realpathSync(path.join(outside, 'secret.yaml'))}, outside the domains folder; only files inside it are read`,
      `${p}/folder.yaml:1:1: E_FILE_UNREADABLE: ${p}/folder.yaml is a directory, not a file`,
      `${p}/huge.yaml:1:1: E_FILE_INVALID: ${p}/huge.yaml is over the 4 MiB limit of a source file (${MAX_SOURCE_BYTES + 1} bytes); split it`,
      `${p}/latin1.yaml:1:22: E_FILE_INVALID: ${p}/latin1.yaml is not UTF-8 text: byte 0xE9 at line 1, column 22 is not valid UTF-8; save the file as UTF-8`,
      `${p}/loop_a.yaml:1:1: E_FILE_UNREADABLE: ${p}/loop_a.yaml is a symbolic link in a loop (it leads back to itself)`,
      `${p}/loop_b.yaml:1:1: E_FILE_UNREADABLE: ${p}/loop_b.yaml is a symbolic link in a loop (it leads back to itself)`,
      `${p}/pipe.yaml:1:1: E_FILE_UNREADABLE: ${p}/pipe.yaml is not a regular file (a device, FIFO or socket)`,
    ]);
    // The shipped domains and their playbooks are all still checked (the new "ops" domain makes five).
    assert.match(lines.at(-1)!, /^12 errors: 5 domains, 4 contracts, 5 valid playbooks checked$/);
    assert.doesNotMatch(r.stdout, /hunter2/);

    const json = await runNoetl(['check', '--format', 'json'], { cwd: ws.root });
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; diagnostics: { code: string }[] };
    assert.equal(parsed.ok, false);
    assert.equal(parsed.diagnostics.filter((d) => d.code.startsWith('E_FILE_')).length, 12);
  });

  it('reports a file and a folder it may not read, as a user whose permissions apply', async () => {
    const own = workspace();
    try {
      const file = path.join(own.domains, 'risk/playbooks/score_applications.yaml');
      const folder = path.join(own.domains, 'healthcare/products');
      fs.chmodSync(file, 0o000);
      fs.chmodSync(folder, 0o000);
      const r = await runNoetl(['check'], { cwd: own.root, filePermissions: true });
      fs.chmodSync(folder, 0o755);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.ok(lines.includes('domains/healthcare/products:1:1: E_FILE_UNREADABLE: domains/healthcare/products cannot be listed: permission denied'), r.stdout);
      assert.ok(lines.includes('domains/risk/playbooks/score_applications.yaml:1:1: E_FILE_UNREADABLE: domains/risk/playbooks/score_applications.yaml cannot be read: permission denied'), r.stdout);
      assert.doesNotMatch(r.stdout, /E_INTERNAL/);
      // Without the contract it cannot list, healthcare's playbook produces an unknown product; the rest check clean.
      assert.match(r.stdout, /patient_cohort\.yaml:\d+:\d+: E_PLAYBOOK_UNDEFINED_PRODUCT/);
      assert.match(r.stdout, /: 4 domains, 3 contracts, 3 valid playbooks checked$/m);
    } finally {
      own.cleanup();
    }
  });

  it('still accepts the shipped domains', async () => {
    const clean = workspace();
    try {
      const r = await runNoetl(['check'], { cwd: clean.root });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, SHIPPED);
    } finally {
      clean.cleanup();
    }
  });
});
