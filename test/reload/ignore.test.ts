// What is not an API's code: not watched, not hashed into its version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIgnoredPath } from '../../src/reload/ignore.ts';

test('hidden files and folders, __pycache__ and .pyc, as Cortex left them out of a project', () => {
  for (const p of ['.git/index', '.cortex-local/replicas/a-1.5/x', '.venv/lib/site.py', 'src/.hidden.py', '__pycache__/p.cpython-312.pyc', 'src/__pycache__', 'lib/util.pyc', '.predictor.py.swp']) {
    assert.equal(isIgnoredPath(p), true, p);
  }
});

test('editors\' backup, swap and atomic-save files', () => {
  for (const p of ['predictor.py~', '#predictor.py#', '4913', 'src/util.py.swo', 'predictor.py___jb_tmp___', 'predictor.py___jb_old___', 'cortex.yaml.bak', 'x.tmp', 'sedAb12Cd']) {
    assert.equal(isIgnoredPath(p), true, p);
  }
});

test('code, data and config are not ignored', () => {
  for (const p of ['predictor.py', 'src/util.py', 'cortex.yaml', 'labels.json', 'model.onnx', 'data/4913.csv', 'sed.py', './predictor.py', 'a/b/c.txt']) {
    assert.equal(isIgnoredPath(p), false, p);
  }
});
