import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml, pointerToPath } from '../../common/yaml-source.ts';

describe('YAML with positions', () => {
  const text = ['a: 1', 'list:', '  - name: x', '  - name: y', '    deep:', '      k: v', ''].join('\n');

  it('locates nested values by path (1-based line and column)', () => {
    const src = parseYaml(text, 'f.yaml');
    assert.deepEqual(src.diagnostics, []);
    assert.deepEqual(src.locate(['a']), { file: 'f.yaml', line: 1, col: 4 });
    assert.deepEqual(src.locate(['list', 1, 'name']), { file: 'f.yaml', line: 4, col: 11 });
    assert.deepEqual(src.locate(['list', 1, 'deep', 'k']), { file: 'f.yaml', line: 6, col: 10 });
  });

  it('falls back to the deepest existing node for a missing path', () => {
    const src = parseYaml(text, 'f.yaml');
    assert.deepEqual(src.locate(['list', 0, 'missing']), { file: 'f.yaml', line: 3, col: 5 });
  });

  it('reports syntax errors with their position instead of throwing', () => {
    const src = parseYaml('a: 1\nb: [1, 2\nc: 3\n', 'bad.yaml');
    assert.equal(src.value, undefined);
    assert.ok(src.diagnostics.length > 0);
    const d = src.diagnostics[0]!;
    assert.equal(d.code, 'E_YAML_SYNTAX');
    assert.equal(d.file, 'bad.yaml');
    assert.ok(d.line >= 2, `line ${d.line}`);
  });

  it('reports duplicate keys', () => {
    const src = parseYaml('a: 1\na: 2\n', 'dup.yaml');
    assert.equal(src.diagnostics[0]?.code, 'E_YAML_SYNTAX');
    assert.equal(src.diagnostics[0]?.line, 2);
  });

  it('reports every repeated key of a map where the library would (nested maps, flow maps, keys with tags and anchors), and keys of different types apart', () => {
    const text = 'a: 1\nb:\n  c: 1\n  c: 2\na: 3\nf: { x: 1, x: 2 }\n&k d: 1\n!!str d: 2\n1: one\n"1": also one\n';
    const src = parseYaml(text, 'dup.yaml');
    assert.deepEqual(src.diagnostics.map((d) => [d.line, d.col, d.message]), [
      [4, 3, 'Map keys must be unique'],
      [5, 1, 'Map keys must be unique'],
      [6, 12, 'Map keys must be unique'],
      [8, 7, 'Map keys must be unique'],
    ]);
  });

  it('finds a repeated key among 200,000 in one pass (the library compared each key with every earlier one: minutes)', () => {
    const keys = Array.from({ length: 200_000 }, (_, i) => `k${i}: ${i}`);
    const src = parseYaml(`${keys.join('\n')}\nk7: again\n`, 'big.yaml');
    assert.deepEqual(src.diagnostics.map((d) => [d.line, d.col]), [[200_001, 1]]);
  });

  it('reports nesting too deep for the parser as such, with its place, instead of a stack overflow', () => {
    const src = parseYaml(`a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'deep.yaml');
    assert.equal(src.value, undefined);
    assert.ok(src.diagnostics.length > 0);
    for (const d of src.diagnostics) {
      assert.equal(d.code, 'E_YAML_SYNTAX');
      assert.equal(d.message, 'nested too deeply to read (the parser ran out of stack here): flatten the structure');
      assert.equal(d.line, 1);
    }
  });

  it('reports an alias to an anchor that was never set (found by the property test), instead of throwing', () => {
    const src = parseYaml('a: 1\nb: *nowhere\n', 'alias.yaml');
    assert.equal(src.value, undefined);
    assert.equal(src.diagnostics[0]?.code, 'E_YAML_SYNTAX');
    assert.match(src.diagnostics[0].message, /alias/i);
  });

  it('splits JSON pointers into path segments', () => {
    assert.deepEqual(pointerToPath('/workflow/2/next/0/step'), ['workflow', 2, 'next', 0, 'step']);
    assert.deepEqual(pointerToPath('/a~1b/c~0d'), ['a/b', 'c~d']);
    assert.deepEqual(pointerToPath(''), []);
  });
});
