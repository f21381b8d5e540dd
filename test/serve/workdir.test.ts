// Each replica works in a folder of its own, as each Cortex 0.15 pod had its
// own copy of the project: Cortex 0.15's iris example, three APIs that each
// download a model to ./model.pkl, with its mem: 100M and a local stand-in for
// S3, serves every API with its own model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { testPython } from '../helpers/python.ts';
import { startServer } from '../helpers/server.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'iris-classifier');

async function predict(url: string, api: string, payload: unknown): Promise<{ status: number; body: unknown }> {
  const r = await request(`${url}/${api}`, { method: 'POST', body: JSON.stringify(payload) });
  return { status: r.statusCode, body: await r.body.json() };
}

test('Cortex 0.15\'s iris example: three APIs writing ./model.pkl each serve their own model, mem: 100M is not a kill limit, and the project is left as it was', async () => {
  const project = mkdtempSync(join(tmpdir(), 'cortex-local-iris-'));
  try {
    cpSync(fixture, project, { recursive: true });
    const made = spawnSync(testPython, ['make_models.py'], { cwd: project, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const listing = () => readdirSync(project).filter((f) => f !== '.cortex-local' && f !== '__pycache__').sort();
    const before = listing();
    const server = await startServer(project, [], { waitForApis: ['iris-classifier', 'another-iris-classifier', 'batch-iris-classifier'] });
    let replicaFolders: string[];
    try {
      const setosa = { sepal_length: 5.2, sepal_width: 3.6, petal_length: 1.4, petal_width: 0.3 };
      const virginica = { sepal_length: 6.9, sepal_width: 3.1, petal_length: 5.4, petal_width: 2.1 };
      assert.deepEqual(await predict(server.url, 'iris-classifier', setosa), { status: 200, body: 'setosa' });
      assert.deepEqual(await predict(server.url, 'iris-classifier', virginica), { status: 200, body: 'virginica' });
      assert.deepEqual(await predict(server.url, 'another-iris-classifier', setosa), { status: 200, body: 'versicolor' }, 'its own model, not the other API\'s');
      assert.deepEqual(await predict(server.url, 'batch-iris-classifier', [setosa, virginica]), { status: 200, body: ['setosa', 'virginica'] });

      assert.equal(existsSync(join(project, 'model.pkl')), false, 'nothing written into the project');
      const root = join(project, '.cortex-local', 'replicas');
      replicaFolders = readdirSync(root).sort();
      assert.deepEqual(replicaFolders.map((f) => f.replace(/\.\d+$/, '')), ['another-iris-classifier-1', 'batch-iris-classifier-1', 'iris-classifier-1']);
      const model = (f: string) => readFileSync(join(root, f, 'model.pkl'));
      assert.ok(model(replicaFolders[1]).equals(model(replicaFolders[2])), 'the same key, the same bytes');
      assert.ok(!model(replicaFolders[0]).equals(model(replicaFolders[2])), 'another-model.pkl is its own');
      const status = (await (await request(`${server.url}/iris-classifier`)).body.json()) as { detail: { restarts: number }[] };
      assert.equal(status.detail[0].restarts, 0, 'past mem: 100M, never OOMKilled');
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.deepEqual(readdirSync(join(project, '.cortex-local', 'replicas')), [], 'replica folders removed when their replicas stop');
    assert.deepEqual(listing(), before);
    assert.ok(existsSync(join(project, 's3', 'cortex-examples', 'sklearn', 'iris-classifier', 'model.pkl')), 'the project\'s files survive their links\' removal');
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
