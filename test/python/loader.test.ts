// Predictor mistakes point to the fix (issue 12): the worker's loader, run by
// the test interpreter in a project folder, reports one summary line naming
// file:line and what to do, then the user's traceback without the runtime's
// frames; signatures are checked at load as Cortex 0.15 checked them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { testPython } from '../helpers/python.ts';

const runtime = join(import.meta.dirname, '..', '..', 'python');
let dir = '';
before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'cortex-local-loader-')));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const LOAD = `
import sys
from cortex_local_worker.loader import add_python_path, init_failure_report, load_predictor
add_python_path(sys.argv[2])
try:
    p = load_predictor(sys.argv[3], sys.argv[1], {"model": "m.bin"}, "the client")
    print("LOADED", type(p).__name__)
except BaseException as e:
    print(init_failure_report(e))
`;

/** Writes the files, loads `predictor.py` from the project folder as the worker does; returns the report. */
function load(files: Record<string, string>, type = 'python'): string {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = spawnSync(testPython, ['-c', LOAD, join(dir, 'predictor.py'), dir, type], { cwd: dir, env: { ...process.env, PYTHONPATH: runtime }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing goes to stderr: the report is sent once, as the INIT_ERROR frame');
  return r.stdout.trimEnd();
}

const GOOD_METHODS = '    def __init__(self, config):\n        pass\n\n    def predict(self, payload):\n        return payload\n';

function assertNoRuntimeFrames(report: string) {
  assert.doesNotMatch(report, /cortex_local_worker|importlib/, `runtime frames leaked:\n${report}`);
}

test('a misnamed class: file:line of the class found, and its name', () => {
  const report = load({ 'predictor.py': `import os\n\nclass Predictor:\n${GOOD_METHODS}` });
  assert.equal(report, 'predictor.py:3: class PythonPredictor not found (found: Predictor): the class must be named PythonPredictor');
});

test('no class at all, or PythonPredictor not a class', () => {
  assert.equal(load({ 'predictor.py': 'x = 1\n' }), 'predictor.py: class PythonPredictor not found (the file defines no class)');
  assert.equal(load({ 'predictor.py': 'def PythonPredictor(config):\n    pass\n' }), 'predictor.py:1: PythonPredictor is not a class (it is a function): define class PythonPredictor');
});

test('a wrong predict signature is refused at load, as Cortex 0.15 did (not a ready API answering 500)', () => {
  const report = load({ 'predictor.py': 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n\n    def predict(self, data):\n        return data\n' });
  assert.equal(report, 'predictor.py:5: PythonPredictor.predict(self, data) must be predict(self, payload), as Cortex 0.15 required');
  assert.match(load({ 'predictor.py': 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n\n    def predict(self):\n        return 1\n' }), /^predictor\.py:5: PythonPredictor\.predict\(self\) must be predict\(self, payload\)/);
  assert.match(load({ 'predictor.py': 'class PythonPredictor:\n    def __init__(self, config):\n        pass\n' }), /^predictor\.py:1: class PythonPredictor must define predict\(self, payload\)$/);
});

test('a wrong or missing __init__', () => {
  assert.equal(
    load({ 'predictor.py': 'class PythonPredictor:\n    def __init__(self, cfg, extra=None):\n        pass\n\n    def predict(self, payload):\n        return 1\n' }),
    'predictor.py:2: PythonPredictor.__init__(self, cfg, extra) must be __init__(self, config), as Cortex 0.15 required',
  );
  assert.equal(
    load({ 'predictor.py': 'class PythonPredictor:\n    def predict(self, payload):\n        return 1\n' }),
    'predictor.py:1: class PythonPredictor defines no __init__(self, config), which Cortex 0.15 required',
  );
});

test("a package missing from --python's environment: the import line, the interpreter and what to do", () => {
  const report = load({ 'predictor.py': `import json\nimport sklearn_is_not_installed\n\nclass PythonPredictor:\n${GOOD_METHODS}` });
  const lines = report.split('\n');
  assert.equal(lines[0], `predictor.py:2: No module named 'sklearn_is_not_installed' in ${testPython}: install it there or point --python at your virtualenv (modules of your own are imported from predictor.python_path)`);
  assert.deepEqual(lines.slice(1), [
    'Traceback (most recent call last):',
    `  File "${join(dir, 'predictor.py')}", line 2, in <module>`,
    '    import sklearn_is_not_installed',
    "ModuleNotFoundError: No module named 'sklearn_is_not_installed'",
  ]);
});

test('a syntax error: file:line and the caret, no traceback header over nothing', () => {
  const report = load({ 'predictor.py': 'class PythonPredictor:\n    def __init__(self, config)\n        pass\n' });
  const lines = report.split('\n');
  assert.match(lines[0], /^predictor\.py:2: SyntaxError: /);
  assert.equal(lines[1], `  File "${join(dir, 'predictor.py')}", line 2`);
  assert.ok(!report.includes('Traceback (most recent call last)'));
  assertNoRuntimeFrames(report);
});

test('an exception in __init__, raised in another file of the project: that file:line, the traceback of user frames only', () => {
  const report = load({
    'helper.py': 'def load(config):\n    raise FileNotFoundError("no model at " + config["model"])\n',
    'predictor.py': 'import helper\n\nclass PythonPredictor:\n    def __init__(self, config):\n        helper.load(config)\n\n    def predict(self, payload):\n        return 1\n',
  });
  const lines = report.split('\n');
  assert.equal(lines[0], 'helper.py:2: FileNotFoundError: no model at m.bin (in PythonPredictor.__init__)');
  assert.equal(lines[1], 'Traceback (most recent call last):');
  assert.deepEqual(lines.filter((l) => l.startsWith('  File ')), [
    `  File "${join(dir, 'predictor.py')}", line 5, in __init__`,
    `  File "${join(dir, 'helper.py')}", line 2, in load`,
  ]);
  assert.equal(lines.at(-1), 'FileNotFoundError: no model at m.bin');
  assertNoRuntimeFrames(report);
});

test('an exception while importing (module-level code)', () => {
  const report = load({ 'predictor.py': 'import json\nCONFIG = json.loads("{")\n' });
  assert.match(report.split('\n')[0], /^predictor\.py:2: JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 \(char 1\) \(while importing predictor\.py\)$/);
  assertNoRuntimeFrames(report);
});

test('a correct predictor loads', () => {
  assert.equal(load({ 'predictor.py': `class PythonPredictor:\n${GOOD_METHODS}` }), 'LOADED PythonPredictor');
});

test('onnx and tensorflow: the constructor takes the client first, named as Cortex 0.15 named it', () => {
  const onnx = (init: string) => `class ONNXPredictor:\n    def __init__(${init}):\n        self.client = onnx_client if "onnx_client" in locals() else None\n\n    def predict(self, payload):\n        return 1\n`;
  assert.equal(load({ 'predictor.py': onnx('self, onnx_client, config') }, 'onnx'), 'LOADED ONNXPredictor');
  assert.equal(
    load({ 'predictor.py': onnx('self, client, config') }, 'onnx'),
    'predictor.py:2: ONNXPredictor.__init__(self, client, config) must be __init__(self, onnx_client, config), as Cortex 0.15 required',
  );
  assert.equal(
    load({ 'predictor.py': `class PythonPredictor:\n${GOOD_METHODS}` }, 'tensorflow'),
    'predictor.py:1: class TensorFlowPredictor not found (found: PythonPredictor): the class must be named TensorFlowPredictor',
  );
});
