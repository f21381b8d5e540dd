// The InferenceServices that `export --to kserve` writes, checked against
// KServe's published CRD schema (vendored excerpt, see the fixture's header)
// with a JSON-schema validator, closed as `kubectl apply --validate=strict` is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { planExport } from '../../src/export/plan.ts';
import { EXAMPLES, projectConfig } from './project.ts';

const CRD = join(import.meta.dirname, '..', 'fixtures', 'export', 'kserve-inferenceservice-crd.excerpt.yaml');
const INT32 = 2 ** 31;

type Schema = Record<string, unknown>;

/** An object schema that lists its properties takes no other key (unless it says to keep unknown fields). */
function closed(schema: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (Array.isArray(v)) out[k] = v.map((x) => (x !== null && typeof x === 'object' ? closed(x as Schema) : x));
    else if (v !== null && typeof v === 'object') out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closed(s as Schema)])) : closed(v as Schema);
    else out[k] = v;
  }
  if (out.properties !== undefined && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

function crdValidator() {
  // strictTypes off: the CRD puts `pattern` beside an int-or-string anyOf, which applies it to strings only, as intended.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  for (const keyword of ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields']) ajv.addKeyword(keyword);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv.compile(closed(parse(readFileSync(CRD, 'utf8')) as Schema));
}

const validate = crdValidator();

function inferenceServices(config: ResolvedConfig): Record<string, any>[] {
  const plan = planExport(config, 'kserve', { present: new Set() }, { image: 'registry.example/project:1', configShown: 'cortex.yaml' });
  return parseAllDocuments(plan.files.get('inferenceservice.yaml')!).map((d) => d.toJS());
}

function assertValid(isvc: unknown): void {
  const ok = validate(isvc);
  assert.ok(ok, `not valid against the CRD: ${JSON.stringify(validate.errors, null, 1)}`);
}

test('the exports of examples/hello and examples/iris are valid InferenceServices', async () => {
  for (const example of ['hello', 'iris']) {
    const [isvc] = inferenceServices(await loadConfig(join(EXAMPLES, example)));
    assert.equal(isvc.kind, 'InferenceService');
    assertValid(isvc);
  }
});

test('an API using every mapped field gives a valid InferenceService; several APIs give one document each', async () => {
  const config = await projectConfig(
    [
      '- name: big',
      '  endpoint: v1/big/',
      '  predictor: {type: python, path: predictor.py, env: {A: "1", B: two}, config: {x: 1}}',
      '  compute: {cpu: 3500m, mem: 6Gi, gpu: 4}',
      '  autoscaling: {min_replicas: 3, max_replicas: 30, init_replicas: 5, workers_per_replica: 2, threads_per_worker: 8, target_replica_concurrency: 12.5, max_replica_concurrency: 5000, window: 5m, downscale_stabilization_period: 2h, upscale_stabilization_period: 1m}',
      '  update_strategy: {max_surge: "3", max_unavailable: 10%}',
      '  tracker: {key: label, model_type: classification}',
      '- name: small',
      '  predictor: {type: python, path: predictor.py}',
    ].join('\n') + '\n',
  );
  const docs = inferenceServices(config);
  assert.deepEqual(docs.map((d) => d.metadata.name), ['big', 'small']);
  for (const isvc of docs) {
    assertValid(isvc);
    // ObjectMeta, which the CRD leaves to the API server: annotation values are strings
    for (const [key, value] of Object.entries(isvc.metadata.annotations)) assert.equal(typeof value, 'string', key);
  }
});

test('the validator is not vacuous: a misspelt field, a wrong type or a bad quantity is refused', async () => {
  const [good] = inferenceServices(await loadConfig(join(EXAMPLES, 'iris')));
  const cases: [string, (isvc: any) => void, RegExp][] = [
    ['misspelt predictor field', (i) => { i.spec.predictor.minReplica = i.spec.predictor.minReplicas; delete i.spec.predictor.minReplicas; }, /must NOT have additional properties/],
    ['string containerConcurrency', (i) => { i.spec.predictor.containerConcurrency = '10'; }, /must be integer/],
    ['quantity that is not one', (i) => { i.spec.predictor.containers[0].resources.requests.cpu = '2 cores'; }, /must match pattern/],
    ['int32 overflow', (i) => { i.spec.predictor.maxReplicas = 2 ** 31; }, /"params":{"format":"int32"}/],
    ['container without a name', (i) => { delete i.spec.predictor.containers[0].name; }, /must have required property 'name'/],
  ];
  for (const [what, mutate, expected] of cases) {
    const isvc = structuredClone(good);
    mutate(isvc);
    assert.equal(validate(isvc), false, what);
    assert.match(JSON.stringify(validate.errors), expected, what);
  }
});
