// An API's version follows its config and the files its replicas run; what a
// replica reads decides whether a change rolls it.
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ResolvedApi } from '../../src/config/types.ts';
import { Fingerprints, versionsOf } from '../../src/reload/version.ts';
import { makeApi } from '../helpers/api.ts';
import { makeProject, PREDICTOR_PY, removeProject } from '../config/project.ts';

let dir = '';
before(() => {
  dir = makeProject({ 'cortex.yaml': '- name: a\n', 'predictor.py': PREDICTOR_PY, 'other.py': PREDICTOR_PY, 'lib/util.py': 'X = 1\n', 'model/big.bin': '' });
});
after(() => removeProject(dir));

const api = (name = 'a', over: Partial<ResolvedApi> = {}): ResolvedApi => ({ ...makeApi(name, dir), ...over });
const of = async (a: ResolvedApi) => (await versionsOf([a], dir, join(dir, 'cortex.yaml'))).get(a.name)!;

test('the same config and files: the same version; 8 hex digits', async () => {
  const v1 = await of(api());
  const v2 = await of(api());
  assert.deepEqual(v1, v2);
  assert.match(v1.version, /^[0-9a-f]{8}$/);
});

test('an edit of the predictor, of any file under python_path, or of a local model rolls the API', async () => {
  const before = await of(api());
  writeFileSync(join(dir, 'lib/util.py'), 'X = 2\n');
  const afterLib = await of(api());
  assert.notEqual(afterLib.restartKey, before.restartKey);
  writeFileSync(join(dir, 'predictor.py'), `${PREDICTOR_PY}# edited\n`);
  const afterPredictor = await of(api());
  assert.notEqual(afterPredictor.restartKey, afterLib.restartKey);
  const model = join(dir, 'model/big.bin');
  writeFileSync(model, Buffer.alloc(2 * 1024 * 1024));
  const withModel = (m: string | null) => api('a', { predictor: { ...makeApi('a', dir).predictor, python_path: join(dir, 'lib'), model: m } });
  const m1 = await of(withModel(model));
  utimesSync(model, new Date(), new Date(Date.now() + 60_000));
  const m2 = await of(withModel(model));
  assert.notEqual(m2.restartKey, m1.restartKey, 'a model over 1 MiB: by size and modification time');
});

test('cortex.yaml, ignored files and a file saved unchanged do not change the version', async () => {
  const before = await of(api());
  writeFileSync(join(dir, 'cortex.yaml'), '- name: a\n- name: b\n');
  mkdirSync(join(dir, '__pycache__'), { recursive: true });
  writeFileSync(join(dir, '__pycache__/predictor.cpython-312.pyc'), 'bytecode');
  writeFileSync(join(dir, 'predictor.py~'), 'backup');
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(join(dir, '.git/index'), 'git');
  const text = PREDICTOR_PY + '# edited\n';
  writeFileSync(join(dir, 'predictor.py'), text);
  assert.deepEqual(await of(api()), before);
});

test('config no replica reads changes the version but not the restart key; compute, workers and the predictor section roll', async () => {
  const base = await of(api());
  const scaled = await of(api('a', { autoscaling: { ...makeApi('a', dir).autoscaling, max_replicas: 7, target_replica_concurrency: 3 }, update_strategy: { max_surge: 0, max_unavailable: 1 }, endpoint: '/elsewhere' }));
  assert.notEqual(scaled.version, base.version);
  assert.equal(scaled.restartKey, base.restartKey);
  for (const over of [
    { compute: { cpu: 1, gpu: 0, mem: null } },
    { autoscaling: { ...makeApi('a', dir).autoscaling, threads_per_worker: 4 } },
    { autoscaling: { ...makeApi('a', dir).autoscaling, max_replica_concurrency: 8 } },
    { predictor: { ...makeApi('a', dir).predictor, config: { k: 1 } } },
    { predictor: { ...makeApi('a', dir).predictor, path: 'other.py' } },
  ] as Partial<ResolvedApi>[]) {
    assert.notEqual((await of(api('a', over))).restartKey, base.restartKey, JSON.stringify(over));
  }
});

test('a digest is kept across deploys while the file is unchanged on disk; an edit, even of the same size, is read again', async () => {
  const cache = new Map<string, { stat: string; digest: string }>();
  const configs = new Set([join(dir, 'cortex.yaml')]);
  const first = await new Fingerprints(dir, configs, cache).of(api());
  assert.ok(cache.has(join(dir, 'predictor.py')));
  assert.deepEqual(await new Fingerprints(dir, configs, cache).of(api()), first);
  const text = PREDICTOR_PY.replace('pass', 'None');
  assert.equal(text.length, PREDICTOR_PY.length);
  writeFileSync(join(dir, 'predictor.py'), text);
  assert.notEqual((await new Fingerprints(dir, configs, cache).of(api())).restartKey, first.restartKey);
});
