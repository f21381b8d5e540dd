// The field mappings of src/export, one engine setting at a time, on configs
// resolved by the config layer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportError } from '../../src/errors.ts';
import { cpuQuantity, memQuantity } from '../../src/export/format.ts';
import { inferenceService } from '../../src/export/kserve.ts';
import { serveApplication } from '../../src/export/rayserve.ts';
import { runtimeApi } from '../../src/export/runtime.ts';
import type { Note } from '../../src/export/types.ts';
import { oneApi, projectConfig } from './project.ts';

const noted = (notes: Note[], field: string) => notes.filter((n) => n.field === field);

test('quantities: cores to milli-CPU (rounded up, as Kubernetes keeps milli precision), bytes to the largest binary unit', () => {
  assert.equal(cpuQuantity(0.2), '200m');
  assert.equal(cpuQuantity(1), '1');
  assert.equal(cpuQuantity(1.5), '1500m');
  assert.equal(cpuQuantity(0.02), '20m');
  assert.equal(cpuQuantity(1.0005), '1001m');
  assert.equal(cpuQuantity(0.1 + 0.2), '300m');
  assert.equal(memQuantity(2 ** 30), '1Gi');
  assert.equal(memQuantity(512 * 2 ** 20), '512Mi');
  assert.equal(memQuantity(1.5 * 2 ** 30), '1536Mi');
  assert.equal(memQuantity(1e9), '1000000000');
});

test('kserve: the autoscaling fields become Knative annotations and KServe predictor fields', async () => {
  const { api, dir } = await oneApi(
    '  autoscaling: {min_replicas: 2, max_replicas: 7, init_replicas: 3, target_replica_concurrency: 2.5, max_replica_concurrency: 40, window: 2m30s, downscale_stabilization_period: 90s}\n',
  );
  const { manifest, notes } = inferenceService(api, dir, 'reg/img:1');
  assert.deepEqual(manifest.metadata, {
    name: 'api',
    annotations: {
      'autoscaling.knative.dev/class': 'kpa.autoscaling.knative.dev',
      'autoscaling.knative.dev/metric': 'concurrency',
      'autoscaling.knative.dev/target': '2.5',
      'autoscaling.knative.dev/target-utilization-percentage': '100',
      'autoscaling.knative.dev/window': '150s',
      'autoscaling.knative.dev/initial-scale': '3',
      'autoscaling.knative.dev/scale-down-delay': '90s',
    },
  });
  const p = manifest.spec.predictor;
  assert.equal(p.minReplicas, 2);
  assert.equal(p.maxReplicas, 7);
  assert.equal(p.containerConcurrency, 40);
  assert.deepEqual(p.containers, [
    { name: 'kserve-container', image: 'reg/img:1', args: ['--api', 'api'], ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '200m' } } },
  ]);
  assert.deepEqual(p.deploymentStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  // 40 is within Knative's limit: only the 503-versus-queue difference is noted
  assert.equal(noted(notes, 'autoscaling.max_replica_concurrency').length, 1);
  for (const field of ['upscale_stabilization_period', 'max_upscale_factor', 'max_downscale_factor', 'upscale_tolerance', 'downscale_tolerance']) {
    assert.equal(noted(notes, `autoscaling.${field}`)[0]?.kind, 'dropped', field);
  }
});

test('kserve: values past Knative’s bounds are clamped, and each clamp is noted', async () => {
  const { api, dir } = await oneApi('  autoscaling: {target_replica_concurrency: 0.001, window: 2h, downscale_stabilization_period: 90m}\n');
  const { manifest, notes } = inferenceService(api, dir, 'i');
  const ann = manifest.metadata.annotations;
  assert.equal(ann['autoscaling.knative.dev/target'], '0.01');
  assert.equal(ann['autoscaling.knative.dev/window'], '3600s');
  assert.equal(ann['autoscaling.knative.dev/scale-down-delay'], '3600s');
  assert.equal(manifest.spec.predictor.containerConcurrency, 1000);
  assert.match(noted(notes, 'autoscaling.target_replica_concurrency')[0].text, /0\.001 is below Knative's minimum target of 0\.01/);
  assert.match(noted(notes, 'autoscaling.window')[0].text, /7200s is longer than Knative's longest stable window/);
  assert.match(noted(notes, 'autoscaling.downscale_stabilization_period')[0].text, /5400s is longer/);
  assert.match(noted(notes, 'autoscaling.max_replica_concurrency')[0].text, /1024 is above Knative's default container-concurrency-max-limit \(1000\); written as 1000/);

  const fractional = await oneApi('  autoscaling: {downscale_stabilization_period: 1500ms}\n');
  const f = inferenceService(fractional.api, fractional.dir, 'i');
  assert.equal(f.manifest.metadata.annotations['autoscaling.knative.dev/scale-down-delay'], '2s');
  assert.match(noted(f.notes, 'autoscaling.downscale_stabilization_period')[0].text, /whole seconds: 1\.5s is written as 2s/);
});

test('kserve: compute becomes requests (GPUs in limits too); env and update_strategy carry over', async () => {
  const { api, dir } = await oneApi(
    '  predictor: {type: python, path: predictor.py, env: {MODE: fast, LEVEL: "3"}}\n  compute: {cpu: 1500m, mem: 3Gi, gpu: 2}\n  update_strategy: {max_surge: "2", max_unavailable: 0}\n',
  );
  const { manifest, notes } = inferenceService(api, dir, 'i');
  const [container] = manifest.spec.predictor.containers as Record<string, unknown>[];
  assert.deepEqual(container.resources, { requests: { cpu: '1500m', memory: '3Gi', 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
  // the container's two GPUs, named as serve names a replica's
  assert.deepEqual(container.env, [{ name: 'MODE', value: 'fast' }, { name: 'LEVEL', value: '3' }, { name: 'CUDA_VISIBLE_DEVICES', value: '0,1' }]);
  // Kubernetes takes an int or "N%": Cortex's "2" is the int 2
  assert.deepEqual(manifest.spec.predictor.deploymentStrategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
  // above KServe's shipped default limits (1 CPU, 2Gi): the note says the pod would be refused
  assert.match(noted(notes, 'compute')[0].text, /the pod is refused until you clear those defaults/);

  const small = await oneApi();
  assert.doesNotMatch(noted(inferenceService(small.api, small.dir, 'i').notes, 'compute')[0].text, /refused/);
});

test('rayserve: one application per API at its endpoint, autoscaling_config and ray_actor_options from the API', async () => {
  const { api, dir } = await oneApi(
    '  endpoint: /v2/score\n  predictor: {type: python, path: predictor.py, env: {MODE: fast}}\n  compute: {cpu: 1500m, mem: 1Gi, gpu: 1}\n' +
      '  autoscaling: {min_replicas: 2, max_replicas: 9, init_replicas: 4, target_replica_concurrency: 3.5, max_replica_concurrency: 64, window: 30s, upscale_stabilization_period: 20s, downscale_stabilization_period: 2m}\n',
  );
  const { manifest, notes } = serveApplication(api, dir);
  assert.deepEqual(manifest, {
    name: 'api',
    route_prefix: '/v2/score',
    import_path: 'cortex_local_export.ray_app:build',
    args: { api: 'api' },
    runtime_env: { env_vars: { MODE: 'fast' } },
    deployments: [
      {
        name: 'api',
        max_ongoing_requests: 64,
        autoscaling_config: { min_replicas: 2, initial_replicas: 4, max_replicas: 9, target_ongoing_requests: 3.5, look_back_period_s: 30, upscale_delay_s: 20, downscale_delay_s: 120 },
        ray_actor_options: { num_cpus: 1.5, num_gpus: 1, memory: 2 ** 30 },
      },
    ],
  });
  assert.equal(noted(notes, 'update_strategy')[0].kind, 'dropped');
  assert.equal(noted(notes, 'autoscaling.window').length, 0);

  const short = await oneApi('  autoscaling: {window: 10s}\n');
  assert.match(noted(serveApplication(short.api, short.dir).notes, 'autoscaling.window')[0].text, /not longer than Ray Serve's metrics interval/);
});

test('runtime: the server gets workers × threads predict threads and paths relative to the project copy', async () => {
  const config = await projectConfig(
    '- name: a\n  predictor: {type: python, path: src/p.py, python_path: src, config: {k: [1, 2]}}\n  autoscaling: {workers_per_replica: 3, threads_per_worker: 4}\n',
    { 'src/p.py': 'x = 1\n' },
  );
  const [api] = config.apis;
  assert.deepEqual(runtimeApi(api, config.projectDir), {
    name: 'a',
    endpoint: '/a',
    type: 'python',
    path: 'src/p.py',
    python_path: 'src',
    config: { k: [1, 2] },
    threads: 12,
    model: null,
    signature_key: null,
  });
  const { notes } = serveApplication(api, config.projectDir);
  assert.match(noted(notes, 'autoscaling.workers_per_replica')[0].text, /one process per replica with 3 × 4 = 12 predict threads/);
});

test('runtime: a predictor or python_path outside the project folder is refused, since the export copies only that folder', async () => {
  const config = await projectConfig('- name: a\n  predictor: {type: python, path: predictor.py}\n');
  const api = config.apis[0];
  const outside = { ...api, predictor: { ...api.predictor, python_path: '/usr/lib' } };
  assert.throws(() => runtimeApi(outside, config.projectDir), (err: unknown) => {
    assert.ok(err instanceof ExportError);
    assert.equal(err.code, 'CORTEX_LOCAL_EXPORT_FAILED');
    assert.match(err.message, /api "a": predictor\.python_path \/usr\/lib lies outside the project folder/);
    return true;
  });
  const up = { ...api, predictor: { ...api.predictor, path: '../p.py' } };
  assert.throws(() => runtimeApi(up, config.projectDir), /predictor\.path .* lies outside the project folder/);
});

test('notes: a tracker is listed as not carried over; a model on S3 as fetched by each replica with its own credentials', async () => {
  const config = await projectConfig('- name: a\n  predictor: {type: onnx, path: predictor.py, model: s3://bucket/m.onnx}\n  tracker: {model_type: classification}\n');
  const [api] = config.apis;
  for (const notes of [inferenceService(api, config.projectDir, 'i').notes, serveApplication(api, config.projectDir).notes]) {
    assert.equal(noted(notes, 'tracker')[0].kind, 'dropped');
    assert.match(noted(notes, 'tracker')[0].text, /model_type classification/);
    assert.match(noted(notes, 'predictor.model')[0].text, /s3:\/\/bucket\/m\.onnx is downloaded when each replica starts, with credentials from the usual AWS environment variables/);
  }
  assert.equal(runtimeApi(api, config.projectDir).model, 's3://bucket/m.onnx');
  const local = await projectConfig('- name: a\n  predictor: {type: onnx, path: predictor.py, model: models/m.onnx}\n', { 'models/m.onnx': 'x' });
  assert.equal(runtimeApi(local.apis[0], local.projectDir).model, 'models/m.onnx');
  assert.deepEqual(noted(inferenceService(local.apis[0], local.projectDir, 'i').notes, 'predictor.model'), []);
});
