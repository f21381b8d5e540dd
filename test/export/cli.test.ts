// `cortex-local export` as users run it: a real process writing a real folder.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';
import { parse } from 'yaml';
import { testPython } from '../helpers/python.ts';
import { BIN, startServer } from '../helpers/server.ts';
import { PREDICTOR_PY } from '../config/project.ts';
import { EXAMPLES, REPO } from './project.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cortexLocal(args: string[], cwd = REPO): Promise<Run> {
  return new Promise((resolve) => {
    execFile(BIN, args, { cwd }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });
}

function tempDir(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'cortex-local-export-')));
}

test('export --to kserve writes the manifests, the Dockerfile, the notes, the project and the runtime', async (t) => {
  const tmp = tempDir();
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'out');
  const r = await cortexLocal(['export', '--to', 'kserve', join(EXAMPLES, 'iris'), '-o', out, '--image', 'registry.example/iris:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^cortex-local: exported 1 API \(iris\) for KServe to .*out\/\n/);
  assert.match(r.stdout, /EXPORT_NOTES\.md lists 5 fields not carried over and 4 carried over with a difference/);
  assert.match(r.stdout, /next: cd .*out && docker build -t registry\.example\/iris:1 \. && docker push registry\.example\/iris:1 && kubectl apply -f inferenceservice\.yaml\n$/);
  assert.deepEqual(readdirSync(out).sort(), ['Dockerfile', 'EXPORT_NOTES.md', 'cortex_export.json', 'cortex_local_export', 'cortex_local_worker', 'inferenceservice.yaml', 'project']);
  // Hidden entries stay behind, as Cortex's upload left them (.cortex-local/ is there once the example has been served).
  assert.deepEqual(readdirSync(join(out, 'project')).sort(), readdirSync(join(EXAMPLES, 'iris')).filter((n) => !n.startsWith('.')).sort());
  assert.ok(existsSync(join(out, 'cortex_local_worker', 'loader.py')));
  assert.ok(existsSync(join(out, 'cortex_local_export', 'kserve_server.py')));
  const isvc = parse(readFileSync(join(out, 'inferenceservice.yaml'), 'utf8'));
  assert.equal(isvc.spec.predictor.containers[0].image, 'registry.example/iris:1');
  assert.equal(isvc.metadata.annotations['autoscaling.knative.dev/target'], '2');
  const notes = readFileSync(join(out, 'EXPORT_NOTES.md'), 'utf8');
  assert.match(notes, /^# Export notes: KServe\n/);
  assert.match(notes, /## API `iris`\n\nNot carried over \(no equivalent\):\n\n- `autoscaling\.upscale_stabilization_period`: \(0s\)/);
  assert.match(readFileSync(join(out, 'Dockerfile'), 'utf8'), /^RUN pip install --no-cache-dir kserve==0\.21\.0$/m);
});

test('export copies the project as Cortex uploaded it, skips exports inside it, and replaces only a folder an export wrote', async (t) => {
  const project = tempDir();
  t.after(() => rmSync(project, { recursive: true, force: true }));
  writeFileSync(join(project, 'cortex.yaml'), '- name: a\n  predictor: {type: python, path: predictor.py}\n');
  writeFileSync(join(project, 'predictor.py'), PREDICTOR_PY);
  writeFileSync(join(project, 'requirements.txt'), 'numpy\n');
  writeFileSync(join(project, 'stale.pyc'), 'x');
  mkdirSync(join(project, '.git'));
  writeFileSync(join(project, '.git', 'HEAD'), 'ref');
  mkdirSync(join(project, 'data'));
  writeFileSync(join(project, 'data', 'w.txt'), 'weights');
  symlinkSync(join(project, 'data', 'w.txt'), join(project, 'weights.txt'));
  symlinkSync(project, join(project, 'data', 'loop'));

  // default output folder, in the project (the working folder)
  assert.equal((await cortexLocal(['export', '--to', 'kserve'], project)).code, 0);
  assert.deepEqual(readdirSync(join(project, 'export-kserve', 'project')).sort(), ['cortex.yaml', 'data', 'predictor.py', 'requirements.txt', 'weights.txt']);
  // a linked file is copied as a file; a link back up the tree is not followed twice
  assert.equal(readFileSync(join(project, 'export-kserve', 'project', 'weights.txt'), 'utf8'), 'weights');
  assert.deepEqual(readdirSync(join(project, 'export-kserve', 'project', 'data')), ['w.txt']);
  assert.match(readFileSync(join(project, 'export-kserve', 'Dockerfile'), 'utf8'), /^RUN pip install --no-cache-dir -r requirements\.txt$/m);
  // the Ray export does not carry the KServe export along
  const ray = await cortexLocal(['export', '--to', 'rayserve'], project);
  assert.equal(ray.code, 0, ray.stderr);
  assert.match(ray.stdout, /next: cd export-rayserve && serve run serve_config\.yaml --working-dir \.\n$/);
  assert.deepEqual(readdirSync(join(project, 'export-rayserve', 'project')).sort(), ['cortex.yaml', 'data', 'predictor.py', 'requirements.txt', 'weights.txt']);
  assert.match(readFileSync(join(project, 'export-rayserve', 'EXPORT_NOTES.md'), 'utf8'), /requirements\.txt is not installed by this export/);

  // an earlier export is replaced whole
  writeFileSync(join(project, 'export-kserve', 'leftover'), 'x');
  assert.equal((await cortexLocal(['export', '--to', 'kserve'], project)).code, 0);
  assert.equal(existsSync(join(project, 'export-kserve', 'leftover')), false);

  // a folder that is not an export is left alone
  const foreign = join(project, 'data');
  const refused = await cortexLocal(['export', '--to', 'kserve', '-o', foreign], project);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^cortex-local: the output folder .*\/data is not empty and was not written by cortex-local export \(it has no cortex_export\.json\); choose another with -o, or empty it\n$/);
  assert.deepEqual(readdirSync(foreign).sort(), ['loop', 'w.txt']);
  // nor is the project itself, or a folder holding it
  for (const o of ['.', '..']) {
    const r = await cortexLocal(['export', '--to', 'rayserve', '-o', o], project);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds the project itself; choose another with -o/);
  }
  assert.ok(existsSync(join(project, 'cortex.yaml')));
});

test('export: an invalid cortex.yaml is reported with its positions (exit 1), usage mistakes exit 2', async (t) => {
  const project = tempDir();
  t.after(() => rmSync(project, { recursive: true, force: true }));
  writeFileSync(join(project, 'cortex.yaml'), '- name: a\n  predictor: {type: python, path: predictor.py}\n  autoscaling: {min_replicas: 0}\n');
  writeFileSync(join(project, 'predictor.py'), PREDICTOR_PY);
  const invalid = await cortexLocal(['export', '--to', 'kserve', project, '-o', join(project, 'out')]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /cortex\.yaml:3:\d+ {2}api "a": autoscaling\.min_replicas: /);
  assert.equal(existsSync(join(project, 'out')), false);

  for (const [args, message] of [
    [['export', project], /export needs --to kserve\|rayserve/],
    [['export', '--to', 'seldon', project], /--to seldon: the engines are kserve, rayserve/],
    [['export', '--to', 'rayserve', '--image', 'x', project], /--image applies to --to kserve only/],
    [['export', '--to', 'kserve', project, project], /export takes one PATH, got 2/],
    [['export', '--to', 'kserve', join(project, 'missing')], /missing: no such file or folder/],
  ] as [string[], RegExp][]) {
    const r = await cortexLocal(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  const help = await cortexLocal(['export', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: cortex-local export --to kserve\|rayserve \[PATH\] \[-o DIR\] \[--image NAME\]/);
});

/** What the exported server answers (PredictorHost, the part both engines share), run by the test venv's python. */
function hostAnswers(exportDir: string, api: string, bodies: string[]): Promise<{ status: number; content_type: string; body: string }[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(testPython, [join(REPO, 'test', 'fixtures', 'export', 'host_probe.py'), exportDir, api], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`host_probe.py exited ${code}: ${stderr}`))));
    child.stdin.end(JSON.stringify(bodies));
  });
}

test('the exported server answers Cortex’s POST <endpoint> as cortex-local serve does: 200, 400 for a bad payload, 500 when predict raises', async (t) => {
  const tmp = tempDir();
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  assert.equal((await cortexLocal(['export', '--to', 'rayserve', join(EXAMPLES, 'iris'), '-o', join(tmp, 'iris')])).code, 0);
  const bodies = [readFileSync(join(EXAMPLES, 'iris', 'sample.json'), 'utf8'), '{"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.4, "petal_width": 2.1}', '{bad', '', '{}'];
  const exported = await hostAnswers(join(tmp, 'iris'), 'iris', bodies);

  const server = await startServer(join(EXAMPLES, 'iris'), [], { waitForApis: ['iris'] });
  try {
    for (const [i, body] of bodies.entries()) {
      const r = await request(`${server.url}/iris`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const served = (await r.body.json()) as Record<string, unknown>;
      assert.equal(exported[i].status, r.statusCode, `body ${JSON.stringify(body)}`);
      assert.equal(exported[i].content_type, r.headers['content-type']);
      const answer = JSON.parse(exported[i].body);
      if (r.statusCode === 200) assert.deepEqual(answer, served);
      else assert.deepEqual(answer, { error: served.error, api: served.api }, `body ${JSON.stringify(body)}`);
    }
  } finally {
    assert.equal(await server.stop(), 0);
  }
  assert.deepEqual(exported.map((e) => e.status), [200, 200, 400, 400, 500]);
});

test('the exported server builds an onnx predictor with its model client, as serve does (examples/iris-onnx)', async (t) => {
  const tmp = tempDir();
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const project = join(tmp, 'iris-onnx');
  await promisify(execFile)('cp', ['-r', join(EXAMPLES, 'iris-onnx'), project]);
  await promisify(execFile)(testPython, [join(project, 'make_model.py')]);
  const r = await cortexLocal(['export', '--to', 'kserve', project, '-o', join(tmp, 'out')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(tmp, 'out', 'Dockerfile'), 'utf8'), /^RUN pip install --no-cache-dir onnxruntime$/m);
  const answers = await hostAnswers(join(tmp, 'out'), 'iris-classifier', [
    readFileSync(join(project, 'sample.json'), 'utf8'),
    '{"sepal_length": 5.9, "sepal_width": 2.8, "petal_length": 4.3, "petal_width": 1.3}',
    '{"sepal_length": 6.7, "sepal_width": 3.1, "petal_length": 5.8, "petal_width": 2.2}',
  ]);
  assert.deepEqual(answers.map((a) => [a.status, JSON.parse(a.body)]), [[200, 'setosa'], [200, 'versicolor'], [200, 'virginica']]);
});
