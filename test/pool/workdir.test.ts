// Replica working folders: the project's entries linked in, writes kept apart,
// removal that leaves the project alone.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { ProjectWorkdirs } from '../../src/pool/workdir.ts';

const project = mkdtempSync(join(tmpdir(), 'cortex-local-workdir-'));
after(() => rmSync(project, { recursive: true, force: true }));
writeFileSync(join(project, 'predictor.py'), 'print(1)\n');
writeFileSync(join(project, '.env'), 'A=1\n');
mkdirSync(join(project, 'data'));
writeFileSync(join(project, 'data', 'labels.txt'), 'setosa\n');

test('a replica folder links every top-level entry of the project, hidden ones too, but not .cortex-local itself', () => {
  const w = new ProjectWorkdirs(project, () => {});
  const dir = w.create('iris-1');
  assert.equal(dir, join(project, '.cortex-local', 'replicas', `iris-1.${process.pid}`));
  assert.deepEqual(readdirSync(dir).sort(), ['.env', 'data', 'predictor.py']);
  assert.ok(lstatSync(join(dir, 'data')).isSymbolicLink());
  assert.equal(readFileSync(join(dir, 'data', 'labels.txt'), 'utf8'), 'setosa\n');
  assert.equal(readFileSync(join(project, '.cortex-local', '.gitignore'), 'utf8'), '# made by cortex-local: its caches and working folders\n*\n');
  writeFileSync(join(dir, 'model.pkl'), 'mine');
  const other = w.create('other-1');
  assert.equal(existsSync(join(other, 'model.pkl')), false, 'a file written in one replica\'s folder is not in another\'s');
  assert.equal(existsSync(join(project, 'model.pkl')), false, 'nor in the project');
  w.remove(dir);
  w.remove(other);
  assert.equal(existsSync(dir), false);
  assert.equal(readFileSync(join(project, 'data', 'labels.txt'), 'utf8'), 'setosa\n', 'removing the links leaves their targets');
  assert.equal(readFileSync(join(project, 'predictor.py'), 'utf8'), 'print(1)\n');
});

test('folders left by a server that was killed (its pid gone) are removed; a live server\'s are kept', () => {
  const root = join(project, '.cortex-local', 'replicas');
  mkdirSync(join(root, 'iris-1.999999999'), { recursive: true });
  mkdirSync(join(root, `iris-1.${process.ppid}`), { recursive: true });
  const w = new ProjectWorkdirs(project, () => {});
  w.create('iris-2');
  assert.deepEqual(readdirSync(root).sort(), [`iris-1.${process.ppid}`, `iris-2.${process.pid}`].sort());
});

test('a project where .cortex-local cannot be made: replicas work in a temporary folder, said once in the log', () => {
  const odd = mkdtempSync(join(tmpdir(), 'cortex-local-odd-'));
  writeFileSync(join(odd, 'predictor.py'), '');
  writeFileSync(join(odd, '.cortex-local'), 'a file, not a folder');
  try {
    const log: string[] = [];
    const w = new ProjectWorkdirs(odd, (l) => log.push(l));
    const dir = w.create('iris-1');
    w.create('iris-2');
    assert.ok(dir.startsWith(tmpdir()) && !dir.startsWith(odd), dir);
    assert.deepEqual(readdirSync(dir), ['predictor.py']);
    assert.equal(log.length, 1);
    assert.match(log[0], /^cannot use .*\.cortex-local\/replicas \(.*\): replicas work in .* instead$/);
    rmSync(dirname(dir), { recursive: true, force: true });
  } finally {
    rmSync(odd, { recursive: true, force: true });
  }
});
