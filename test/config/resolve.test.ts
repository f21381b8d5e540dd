// cortex.yaml → resolved APIs or every error (spec/config.md §2–§5): every
// default, type rule, bound on both sides, null, unknown key, predictor and
// file rule, cross-field rule, the YAML 1.1 dialect, the spec's worked
// examples with their exact (api, path) pairs, and error positions.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveAutoscalingBlock } from '../../src/config/autoscaling.ts';
import { resolveConfigText } from '../../src/config/resolve.ts';
import type { ResolvedApi } from '../../src/config/types.ts';
import type { ConfigIssue } from '../../src/errors.ts';
import { DEFAULT_AUTOSCALING, makeProject, minimalIrisApi, PREDICTOR_PY, removeProject, savedModel } from './project.ts';

let dir = '';
before(() => {
  dir = makeProject({
    'predictor.py': PREDICTOR_PY,
    'src/util.py': '',
    'empty/': '',
    'nested/deep/er/x.py': '',
    'model.onnx': 'onnx',
    'models/clf.onnx': 'onnx',
    'model.zip': 'zip',
    'notes.txt': 'not a model',
    ...savedModel('tf'),
    // versions: 1 and 2 valid, 10 incomplete (no variables), 3a not a version
    ...savedModel('tfv/1'),
    ...savedModel('tfv/2'),
    'tfv/10/saved_model.pb': 'pb',
    ...savedModel('tfv/3a'),
    'tfv/README': 'x',
    // no valid version at all
    'tfbad/1/saved_model.pb': 'pb',
    'tfbad/1/variables/variables.index': 'x',
  });
});
after(() => removeProject(dir));

function resolveText(text: string) {
  return resolveConfigText(text, join(dir, 'cortex.yaml'), dir);
}

function apisOf(text: string): ResolvedApi[] {
  const r = resolveText(text);
  if (!r.ok) assert.fail(`expected a valid config, got:\n${r.issues.map((i) => `${i.line}:${i.column} ${i.api} ${i.path}: ${i.message}`).join('\n')}\n---\n${text}`);
  return r.apis;
}

function issuesOf(text: string): ConfigIssue[] {
  const r = resolveText(text);
  if (r.ok) assert.fail(`expected errors, got a valid config:\n${text}`);
  return r.issues;
}

function pairsOf(text: string): [string | null, string][] {
  return issuesOf(text).map((i) => [i.api, i.path]);
}

/** Asserts exactly one error, at `path`, and returns it. */
function onlyError(text: string, path: string, message?: RegExp): ConfigIssue {
  const issues = issuesOf(text);
  assert.deepEqual(
    issues.map((i) => i.path),
    [path],
    `expected one error at ${path}, got:\n${issues.map((i) => `${i.path}: ${i.message}`).join('\n')}\n---\n${text}`,
  );
  if (message) assert.match(issues[0].message, message);
  return issues[0];
}

/** One API named `a` with a python predictor; each argument is one more line of the item (indent nested lines yourself). */
const PY = 'predictor: {type: python, path: predictor.py}';
function api(...lines: string[]): string {
  return `- name: a\n${lines.map((l) => `  ${l}\n`).join('')}`;
}
/** One API with a python predictor and `section: {key: value}` written as a block. */
function withField(section: string, key: string, value: string): string {
  return api(PY, `${section}:`, `  ${key}: ${value}`);
}

/** line:column of the `occurrence`-th appearance of `needle` in `text` (1-based) */
function find(text: string, needle: string, occurrence = 1): string {
  let at = -1;
  for (let n = 0; n < occurrence; n++) {
    at = text.indexOf(needle, at + 1);
    assert.notEqual(at, -1, `${JSON.stringify(needle)} #${occurrence} not in text`);
  }
  const before = text.slice(0, at).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}
const at = (i: ConfigIssue) => `${i.line}:${i.column}`;

describe('spec §5 worked examples', () => {
  test('1: minimal → exactly the §4 object', () => {
    const apis = apisOf('- name: iris\n  predictor: {type: python, path: predictor.py}\n');
    assert.deepEqual(apis, [
      minimalIrisApi(dir),
    ]);
    // the resolved value is plain JSON data: it survives a round trip unchanged
    assert.deepEqual(JSON.parse(JSON.stringify(apis)), apis);
  });

  test('2: quantities, endpoint, workers/threads', () => {
    const [a] = apisOf(`- name: text-gen
  endpoint: generate/
  predictor: {type: python, path: predictor.py, python_path: src}
  compute: {cpu: 1500m, mem: 2Gi, gpu: 1}
  autoscaling: {workers_per_replica: 2, threads_per_worker: 4, window: 2m30s, min_replicas: 2}
`);
    assert.equal(a.endpoint, '/generate');
    assert.equal(a.predictor.python_path, join(dir, 'src'));
    assert.deepEqual(a.compute, { cpu: 1.5, gpu: 1, mem: 2147483648 });
    assert.deepEqual(a.autoscaling, {
      ...DEFAULT_AUTOSCALING,
      min_replicas: 2,
      init_replicas: 2,
      workers_per_replica: 2,
      threads_per_worker: 4,
      target_replica_concurrency: 8,
      window: 150,
    });
  });

  test('3: ONNX from S3 with a tracker', () => {
    const [a] = apisOf(`- name: clf
  predictor: {type: onnx, path: predictor.py, model: s3://my-bucket/clf.onnx, config: {labels: [a, b]}}
  tracker: {model_type: classification}
`);
    assert.deepEqual(a.predictor, {
      type: 'onnx',
      path: 'predictor.py',
      model: 's3://my-bucket/clf.onnx',
      signature_key: null,
      config: { labels: ['a', 'b'] },
      python_path: dir,
      env: {},
    });
    assert.deepEqual(a.tracker, { key: null, model_type: 'classification' });
  });

  test('4: three errors in one API, all reported, plus the derived init_replicas', () => {
    const text = `- name: a
  predictor: {type: python, path: predictor.py}
  autoscaling: {min_replicas: 4, max_replicas: 2, window: 45s}
  compute: {cpu: 5m}
`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.api, i.path]).sort(),
      [
        ['a', 'autoscaling.init_replicas'],
        ['a', 'autoscaling.min_replicas'],
        ['a', 'autoscaling.window'],
        ['a', 'compute.cpu'],
      ],
    );
    const by = (p: string) => issues.find((i) => i.path === p)!;
    assert.match(by('autoscaling.min_replicas').message, /≤ max_replicas \(got 4 > 2\)/);
    assert.match(by('autoscaling.init_replicas').message, /4 > 2.*defaults to min_replicas/);
    assert.match(by('autoscaling.window').message, /multiple of 10s.*45s/);
    assert.match(by('compute.cpu').message, /≥ 20m \(got 5m\)/);
  });

  test('5: type and key errors', () => {
    const text = `- name: b
  predictor: {type: tensorflow, path: predictor.py}
  compute: {mem: 1073741824}
  update_strategy: {max_surge: 0, max_unavailable: 0%}
  autoscale: {max_replicas: 3}
`;
    assert.deepEqual(pairsOf(text).sort(), [
      ['b', 'autoscale'],
      ['b', 'compute.mem'],
      ['b', 'predictor.model'],
      ['b', 'update_strategy'],
    ]);
    const issues = issuesOf(text);
    assert.match(issues.find((i) => i.path === 'autoscale')!.message, /key "autoscale" is not supported \(did you mean "autoscaling"\?\)/);
    assert.match(issues.find((i) => i.path === 'compute.mem')!.message, /must be a string.*got 1073741824, an integer/);
    assert.match(issues.find((i) => i.path === 'predictor.model')!.message, /must be defined for the tensorflow predictor type/);
    assert.match(issues.find((i) => i.path === 'update_strategy')!.message, /cannot both be zero/);
  });

  test('6: names and endpoints', () => {
    const text = `- name: API-1
  predictor: {type: python, path: predictor.py}
- name: c
  endpoint: /c//v2
  predictor: {type: python, path: predictor.py}
- name: d
  endpoint: e/
  predictor: {type: python, path: predictor.py}
- name: e
  predictor: {type: python, path: predictor.py}
`;
    assert.deepEqual(pairsOf(text), [
      ['API-1', 'name'],
      ['c', 'endpoint'],
      ['e', 'endpoint'],
    ]);
    const issues = issuesOf(text);
    assert.match(issues[0].message, /DNS-1035/);
    assert.match(issues[1].message, /"\/\/"/);
    assert.match(issues[2].message, /"\/e" .*is already used by api "d"/);
  });

  test('7: a mapping instead of a list', () => {
    assert.deepEqual(
      issuesOf('name: iris\n').map(({ api, path, message }) => ({ api, path, message })),
      [{ api: null, path: '', message: 'cortex.yaml must contain a list of maps' }],
    );
  });
});

describe('defaults', () => {
  test('every default of §3, with init_replicas and target derived', () => {
    const [a] = apisOf(api(PY));
    assert.equal(a.endpoint, '/a');
    assert.deepEqual(a.compute, { cpu: 0.2, gpu: 0, mem: null });
    assert.deepEqual(a.autoscaling, DEFAULT_AUTOSCALING);
    assert.deepEqual(a.update_strategy, { max_surge: '25%', max_unavailable: '25%' });
    assert.equal(a.tracker, null);
    assert.deepEqual(a.predictor.config, {});
    assert.deepEqual(a.predictor.env, {});
    assert.equal(a.predictor.python_path, dir);
    assert.equal(a.predictor.model, null);
    assert.equal(a.predictor.signature_key, null);
  });

  test('empty sections take every default', () => {
    const [a] = apisOf(api(PY, 'compute: {}', 'autoscaling: {}', 'update_strategy: {}', 'tracker: {model_type: regression}'));
    assert.deepEqual(a.autoscaling, DEFAULT_AUTOSCALING);
    assert.deepEqual(a.compute, { cpu: 0.2, gpu: 0, mem: null });
    assert.deepEqual(a.update_strategy, { max_surge: '25%', max_unavailable: '25%' });
  });

  test('init_replicas defaults to min_replicas', () => {
    assert.equal(apisOf(withField('autoscaling', 'min_replicas', '3'))[0].autoscaling.init_replicas, 3);
    assert.equal(apisOf(api(PY, 'autoscaling: {min_replicas: 3, init_replicas: 5}'))[0].autoscaling.init_replicas, 5);
  });

  test('target_replica_concurrency defaults to workers × threads', () => {
    assert.equal(apisOf(api(PY, 'autoscaling: {workers_per_replica: 3, threads_per_worker: 5}'))[0].autoscaling.target_replica_concurrency, 15);
    assert.equal(apisOf(withField('autoscaling', 'workers_per_replica', '4'))[0].autoscaling.target_replica_concurrency, 4);
    assert.equal(apisOf(withField('autoscaling', 'threads_per_worker', '6'))[0].autoscaling.target_replica_concurrency, 6);
    assert.equal(
      apisOf(api(PY, 'autoscaling: {workers_per_replica: 3, threads_per_worker: 5, target_replica_concurrency: 2.5}'))[0].autoscaling.target_replica_concurrency,
      2.5,
    );
  });

  test('the endpoint defaults to /<name>', () => {
    assert.equal(apisOf(`- name: my-api-2\n  ${PY}\n`)[0].endpoint, '/my-api-2');
  });
});

// [section, key, YAML value, resolved value or ERR]
const ERR = Symbol('error');
type Bound = [string, string, string, unknown];
const BOUNDS: Bound[] = [
  ['autoscaling', 'min_replicas', '0', ERR],
  ['autoscaling', 'min_replicas', '1', 1],
  ['autoscaling', 'min_replicas', '-1', ERR],
  ['autoscaling', 'max_replicas', '0', ERR],
  ['autoscaling', 'max_replicas', '1', 1],
  ['autoscaling', 'init_replicas', '0', ERR],
  ['autoscaling', 'init_replicas', '1', 1],
  ['autoscaling', 'init_replicas', '100', 100],
  ['autoscaling', 'workers_per_replica', '0', ERR],
  ['autoscaling', 'workers_per_replica', '1', 1],
  ['autoscaling', 'workers_per_replica', '20', 20],
  ['autoscaling', 'workers_per_replica', '21', ERR],
  ['autoscaling', 'threads_per_worker', '0', ERR],
  ['autoscaling', 'threads_per_worker', '1', 1],
  ['autoscaling', 'threads_per_worker', '2147483647', 2147483647],
  ['autoscaling', 'target_replica_concurrency', '0', ERR],
  ['autoscaling', 'target_replica_concurrency', '-1', ERR],
  ['autoscaling', 'target_replica_concurrency', '0.001', 0.001],
  ['autoscaling', 'target_replica_concurrency', '3', 3],
  ['autoscaling', 'max_replica_concurrency', '0', ERR],
  ['autoscaling', 'max_replica_concurrency', '1', 1],
  ['autoscaling', 'max_replica_concurrency', '2147483648', 2147483648],
  ['autoscaling', 'window', '10s', 10],
  ['autoscaling', 'window', '20s', 20],
  ['autoscaling', 'window', '1m', 60],
  ['autoscaling', 'window', '10000ms', 10],
  ['autoscaling', 'window', '1h', 3600],
  ['autoscaling', 'window', '5s', ERR],
  ['autoscaling', 'window', '45s', ERR],
  ['autoscaling', 'window', '0s', ERR],
  ['autoscaling', 'window', '"0"', ERR],
  ['autoscaling', 'window', '-10s', ERR],
  ['autoscaling', 'window', '9.999999999s', ERR],
  ['autoscaling', 'window', '10.000000001s', ERR],
  ['autoscaling', 'window', '10s1ns', ERR],
  ['autoscaling', 'downscale_stabilization_period', '0s', 0],
  ['autoscaling', 'downscale_stabilization_period', '"0"', 0],
  ['autoscaling', 'downscale_stabilization_period', '1h30m', 5400],
  ['autoscaling', 'downscale_stabilization_period', '500ms', 0.5],
  ['autoscaling', 'downscale_stabilization_period', '-1ns', ERR],
  ['autoscaling', 'downscale_stabilization_period', '-1s', ERR],
  ['autoscaling', 'upscale_stabilization_period', '0m', 0],
  ['autoscaling', 'upscale_stabilization_period', '1m', 60],
  ['autoscaling', 'upscale_stabilization_period', '-1m', ERR],
  ['autoscaling', 'max_downscale_factor', '0', 0],
  ['autoscaling', 'max_downscale_factor', '0.0', 0],
  ['autoscaling', 'max_downscale_factor', '0.99', 0.99],
  ['autoscaling', 'max_downscale_factor', '1', ERR],
  ['autoscaling', 'max_downscale_factor', '1.0', ERR],
  ['autoscaling', 'max_downscale_factor', '-0.1', ERR],
  ['autoscaling', 'max_upscale_factor', '1', ERR],
  ['autoscaling', 'max_upscale_factor', '0.5', ERR],
  ['autoscaling', 'max_upscale_factor', '1.01', 1.01],
  ['autoscaling', 'max_upscale_factor', '2', 2],
  ['autoscaling', 'downscale_tolerance', '0', 0],
  ['autoscaling', 'downscale_tolerance', '0.99', 0.99],
  ['autoscaling', 'downscale_tolerance', '1', ERR],
  ['autoscaling', 'downscale_tolerance', '-0.01', ERR],
  ['autoscaling', 'upscale_tolerance', '0', 0],
  ['autoscaling', 'upscale_tolerance', '5', 5],
  ['autoscaling', 'upscale_tolerance', '-0.01', ERR],
  ['compute', 'cpu', '20m', 0.02],
  ['compute', 'cpu', '0.02', 0.02],
  ['compute', 'cpu', '"0.02"', 0.02],
  ['compute', 'cpu', '19m', ERR],
  ['compute', 'cpu', '0.019', ERR],
  ['compute', 'cpu', '"0.019"', ERR],
  ['compute', 'cpu', '0', ERR],
  ['compute', 'cpu', '-1', ERR],
  ['compute', 'cpu', '200m', 0.2],
  ['compute', 'cpu', '1500m', 1.5],
  ['compute', 'cpu', '1', 1],
  ['compute', 'cpu', '0.5', 0.5],
  ['compute', 'cpu', '.5', 0.5],
  ['compute', 'cpu', '2', 2],
  ['compute', 'cpu', '1e9', 1e9],
  ['compute', 'cpu', '1k', 1000],
  ['compute', 'cpu', 'K', ERR],
  ['compute', 'cpu', '1K', ERR],
  ['compute', 'cpu', '"1 core"', ERR],
  ['compute', 'cpu', '""', ERR],
  ['compute', 'mem', '20Mi', 20971520],
  ['compute', 'mem', '"20971520"', 20971520],
  ['compute', 'mem', '"20971519"', ERR],
  ['compute', 'mem', '20M', ERR],
  ['compute', 'mem', '20971520', ERR], // a YAML int
  ['compute', 'mem', '1Gi', 1073741824],
  ['compute', 'mem', '512Mi', 536870912],
  ['compute', 'mem', '1G', 1000000000],
  ['compute', 'mem', '1.5Gi', 1610612736],
  ['compute', 'mem', '"129e6"', 129000000],
  ['compute', 'mem', '129e6', ERR], // a YAML float in go-yaml v2
  ['compute', 'mem', '1KiB', ERR],
  ['compute', 'mem', '1K', ERR],
  ['compute', 'mem', '""', ERR],
  ['compute', 'gpu', '0', 0],
  ['compute', 'gpu', '1', 1],
  ['compute', 'gpu', '8', 8],
  ['compute', 'gpu', '-1', ERR],
];

describe('bounds, exactly at the boundary on both sides', () => {
  for (const [section, key, value, expected] of BOUNDS) {
    const path = `${section}.${key}`;
    test(`${path}: ${value} → ${expected === ERR ? 'error' : JSON.stringify(expected)}`, () => {
      const text = withField(section, key, value);
      if (expected === ERR) {
        const issue = onlyError(text, path);
        assert.equal(issue.api, 'a');
        assert.equal(at(issue), find(text, `${key}: `).replace(/:(\d+)$/, (_, c) => `:${Number(c) + key.length + 2}`));
      } else {
        const [a] = apisOf(text);
        assert.equal((a as unknown as Record<string, Record<string, unknown>>)[section][key], expected);
      }
    });
  }
});

describe('messages say what was expected and what was found', () => {
  const cases: [string, string, string, RegExp][] = [
    ['autoscaling', 'min_replicas', '0', /must be > 0 \(got 0\)/],
    ['autoscaling', 'workers_per_replica', '21', /must be ≤ 20 \(got 21\)/],
    ['autoscaling', 'workers_per_replica', '0', /must be ≥ 1 \(got 0\)/],
    ['autoscaling', 'max_downscale_factor', '1', /must be < 1 \(got 1\)/],
    ['autoscaling', 'max_upscale_factor', '1', /must be > 1 \(got 1\)/],
    ['autoscaling', 'upscale_tolerance', '-0.5', /must be ≥ 0 \(got -0.5\)/],
    ['autoscaling', 'window', '5s', /must be ≥ 10s \(got 5s\)/],
    ['autoscaling', 'window', '45s', /whole multiple of 10s.*\(got 45s\)/],
    ['autoscaling', 'window', '5x', /must be a duration.*"5x"/],
    ['autoscaling', 'window', '60', /must be a duration string.*got 60, an integer/],
    ['autoscaling', 'downscale_stabilization_period', '-1s', /must be ≥ 0 \(got -1s\)/],
    ['autoscaling', 'min_replicas', '"2"', /must be an integer \(got "2", a string\)/],
    ['autoscaling', 'min_replicas', '1.5', /must be an integer \(got 1.5/],
    ['autoscaling', 'min_replicas', 'true', /must be an integer \(got true, a boolean\)/],
    ['autoscaling', 'min_replicas', '2147483648', /32-bit.*2147483648/],
    ['autoscaling', 'target_replica_concurrency', '"1"', /must be a number \(got "1", a string\)/],
    ['compute', 'cpu', '19m', /must be ≥ 20m \(got 19m\)/],
    ['compute', 'cpu', '0.019', /must be ≥ 20m \(got 0.019\)/],
    ['compute', 'cpu', 'K', /Kubernetes quantity.*"K"/],
    ['compute', 'mem', '20M', /must be ≥ 20Mi \(got 20M\)/],
    ['compute', 'mem', '1073741824', /must be a string.*got 1073741824, an integer.*"1073741824"/],
    ['compute', 'gpu', '-1', /must be ≥ 0 \(got -1\)/],
    ['compute', 'gpu', '"1"', /must be an integer \(got "1", a string\)/],
  ];
  for (const [section, key, value, message] of cases) {
    test(`${section}.${key}: ${value}`, () => {
      onlyError(withField(section, key, value), `${section}.${key}`, message);
    });
  }
});

describe('type rules', () => {
  // [API item text, path of the single error]
  const cases: [string, string][] = [
    // int fields: only YAML integers
    ...['min_replicas', 'max_replicas', 'init_replicas', 'workers_per_replica', 'threads_per_worker', 'max_replica_concurrency'].flatMap((key): [string, string][] =>
      ['1.5', '"2"', 'true', 'yes', '[1]', '{a: 1}', '2.0', '1e3', '08'].map((v) => [withField('autoscaling', key, v), `autoscaling.${key}`]),
    ),
    ...['1.5', '"1"', 'true', '[1]', '1.0'].map((v): [string, string] => [withField('compute', 'gpu', v), 'compute.gpu']),
    // float fields: YAML ints and floats, not strings or booleans
    ...['target_replica_concurrency', 'max_downscale_factor', 'max_upscale_factor', 'downscale_tolerance', 'upscale_tolerance'].flatMap((key): [string, string][] =>
      ['"0.5"', 'true', 'off', '[1]', '{a: 1}'].map((v) => [withField('autoscaling', key, v), `autoscaling.${key}`]),
    ),
    // durations: strings only
    ...['window', 'downscale_stabilization_period', 'upscale_stabilization_period'].flatMap((key): [string, string][] =>
      ['60', '60.0', 'true', '[1m]', '"60"', '""', '1x', '1d'].map((v) => [withField('autoscaling', key, v), `autoscaling.${key}`]),
    ),
    // cpu: string, int or float; mem: string only
    ...['true', '[1]', '{a: 1}'].map((v): [string, string] => [withField('compute', 'cpu', v), 'compute.cpu']),
    ...['1073741824', '1.5', 'true', '[1Gi]'].map((v): [string, string] => [withField('compute', 'mem', v), 'compute.mem']),
    // strings
    [`- name: 123\n  ${PY}\n`, 'name'],
    [`- name: true\n  ${PY}\n`, 'name'],
    [`- name: [a]\n  ${PY}\n`, 'name'],
    [`- name: ""\n  ${PY}\n`, 'name'],
    [api(PY, 'endpoint: 5'), 'endpoint'],
    [api(PY, 'endpoint: ""'), 'endpoint'],
    [api(PY, 'endpoint: [a]'), 'endpoint'],
    [api('predictor: {type: 5, path: predictor.py}'), 'predictor.type'],
    [api('predictor: {type: Python, path: predictor.py}'), 'predictor.type'],
    [api('predictor: {type: pytorch, path: predictor.py}'), 'predictor.type'],
    [api('predictor: {type: "", path: predictor.py}'), 'predictor.type'],
    [api('predictor: {type: python, path: 5}'), 'predictor.path'],
    [api('predictor: {type: python, path: ""}'), 'predictor.path'],
    [api('predictor: {type: tensorflow, path: predictor.py, model: 5}'), 'predictor.model'],
    [api('predictor: {type: tensorflow, path: predictor.py, model: ""}'), 'predictor.model'],
    [api('predictor: {type: tensorflow, path: predictor.py, model: tf, signature_key: 5}'), 'predictor.signature_key'],
    [api('predictor: {type: tensorflow, path: predictor.py, model: tf, signature_key: ""}'), 'predictor.signature_key'],
    [api('predictor: {type: python, path: predictor.py, python_path: 5}'), 'predictor.python_path'],
    [api('predictor: {type: python, path: predictor.py, python_path: ""}'), 'predictor.python_path'],
    [api('predictor: {type: python, path: predictor.py, config: 5}'), 'predictor.config'],
    [api('predictor: {type: python, path: predictor.py, config: [a]}'), 'predictor.config'],
    [api('predictor: {type: python, path: predictor.py, config: text}'), 'predictor.config'],
    [api('predictor: {type: python, path: predictor.py, env: 5}'), 'predictor.env'],
    [api('predictor: {type: python, path: predictor.py, env: [A]}'), 'predictor.env'],
    [api('predictor: {type: python, path: predictor.py, env: {A: 1}}'), 'predictor.env.A'],
    [api('predictor: {type: python, path: predictor.py, env: {A: true}}'), 'predictor.env.A'],
    [api('predictor: {type: python, path: predictor.py, env: {A: 1.5}}'), 'predictor.env.A'],
    [api('predictor: {type: python, path: predictor.py, env: {A: [x]}}'), 'predictor.env.A'],
    [api('predictor: {type: python, path: predictor.py, env: {A: {b: c}}}'), 'predictor.env.A'],
    [api(PY, 'tracker: {key: 5, model_type: regression}'), 'tracker.key'],
    [api(PY, 'tracker: {key: "", model_type: regression}'), 'tracker.key'],
    [api(PY, 'tracker: {model_type: 5}'), 'tracker.model_type'],
    [api(PY, 'tracker: {model_type: true}'), 'tracker.model_type'],
    // sections given a non-mapping
    ['- name: a\n  predictor: 5\n', 'predictor'],
    ['- name: a\n  predictor: python\n', 'predictor'],
    ['- name: a\n  predictor: [python]\n', 'predictor'],
    [api(PY, 'tracker: 5'), 'tracker'],
    [api(PY, 'tracker: classification'), 'tracker'],
    [api(PY, 'compute: 5'), 'compute'],
    [api(PY, 'compute: [1]'), 'compute'],
    [api(PY, 'autoscaling: 5'), 'autoscaling'],
    [api(PY, 'autoscaling: [min_replicas]'), 'autoscaling'],
    [api(PY, 'update_strategy: 5'), 'update_strategy'],
    [api(PY, 'update_strategy: "25%"'), 'update_strategy'],
  ];
  for (const [text, path] of cases) {
    const value = text.trimEnd().split('\n').at(-1)!.trim();
    test(`${path} ← ${value}`, () => {
      const issue = onlyError(text, path);
      assert.ok(issue.message.length > 10, issue.message);
    });
  }

  test('a section given a non-mapping is one type error at the section', () => {
    onlyError(api(PY, 'autoscaling: 5'), 'autoscaling', /must be a mapping \(got 5, an integer\)/);
  });
});

describe('int32 overflow', () => {
  for (const key of ['min_replicas', 'max_replicas', 'init_replicas', 'threads_per_worker']) {
    test(`autoscaling.${key}: 2147483648 is an error, 2147483647 fits`, () => {
      onlyError(withField('autoscaling', key, '2147483648'), `autoscaling.${key}`, /32-bit/);
      const fields = key === 'threads_per_worker' ? 'threads_per_worker: 2147483647' : 'min_replicas: 2147483647, max_replicas: 2147483647';
      assert.equal(apisOf(api(PY, `autoscaling: {${fields}}`))[0].autoscaling[key as 'min_replicas'], 2147483647);
    });
  }
  test('-2147483649 is an error about the range, not only the sign', () => {
    onlyError(withField('autoscaling', 'min_replicas', '-2147483649'), 'autoscaling.min_replicas', /32-bit/);
  });
  test('update_strategy ints are int32', () => {
    onlyError(withField('update_strategy', 'max_surge', '2147483648'), 'update_strategy.max_surge', /32-bit/);
    assert.equal(apisOf(withField('update_strategy', 'max_surge', '2147483647'))[0].update_strategy.max_surge, 2147483647);
  });
  test('max_replica_concurrency is int64: 2^31 is fine', () => {
    assert.equal(apisOf(withField('autoscaling', 'max_replica_concurrency', '4294967296'))[0].autoscaling.max_replica_concurrency, 4294967296);
  });
});

describe('explicit null is an error for every key, sections included', () => {
  const API_LEVEL = ['name', 'endpoint', 'predictor', 'tracker', 'compute', 'autoscaling', 'update_strategy'];
  const nulls = ['', ' ~', ' null', ' Null', ' NULL'];
  for (const key of API_LEVEL) {
    for (const spelling of nulls) {
      test(`${key}:${spelling}`, () => {
        const lines = [`name: a`, PY].filter((l) => !l.startsWith(`${key}:`) && !(key === 'predictor' && l === PY));
        const text = `- ${[...lines, `${key}:${spelling}`].join('\n  ')}\n`;
        const issue = onlyError(text, key, /cannot be null/);
        assert.equal(issue.api, key === 'name' ? null : 'a');
        // `key:` points at the key; `key: ~` at the ~
        assert.equal(at(issue), spelling === '' ? find(text, `${key}:`) : find(text, spelling.trim()));
      });
    }
  }
  const predictorKeys: [string, string][] = [
    ['type', 'path: predictor.py'],
    ['path', 'type: python'],
    ['model', 'type: tensorflow\n    path: predictor.py'],
    ['model', 'type: python\n    path: predictor.py'],
    ['signature_key', 'type: tensorflow\n    path: predictor.py\n    model: tf'],
    ['config', 'type: python\n    path: predictor.py'],
    ['python_path', 'type: python\n    path: predictor.py'],
    ['env', 'type: python\n    path: predictor.py'],
  ];
  for (const [key, rest] of predictorKeys) {
    for (const spelling of ['', ' ~', ' null']) {
      test(`predictor.${key}:${spelling} (${rest.split('\n')[0]})`, () => {
        onlyError(`- name: a\n  predictor:\n    ${rest}\n    ${key}:${spelling}\n`, `predictor.${key}`, /cannot be null/);
      });
    }
  }
  for (const [key, rest] of [
    ['key', 'model_type: regression'],
    ['model_type', 'key: k'],
  ]) {
    test(`tracker.${key}: ~`, () => void onlyError(api(PY, 'tracker:', `  ${rest}`, `  ${key}: ~`), `tracker.${key}`, /cannot be null/));
  }
  for (const key of ['cpu', 'mem', 'gpu']) {
    test(`compute.${key}:`, () => void onlyError(withField('compute', key, ''), `compute.${key}`, /cannot be null/));
  }
  for (const key of Object.keys(DEFAULT_AUTOSCALING)) {
    test(`autoscaling.${key}: null`, () => void onlyError(withField('autoscaling', key, 'null'), `autoscaling.${key}`, /cannot be null/));
  }
  for (const key of ['max_surge', 'max_unavailable']) {
    test(`update_strategy.${key}: ~`, () => void onlyError(withField('update_strategy', key, '~'), `update_strategy.${key}`, /cannot be null/));
  }
  test('values inside config may be null', () => {
    const [a] = apisOf(api('predictor:', '  type: python', '  path: predictor.py', '  config: {a: ~, b: null, c:, d: [~]}'));
    assert.deepEqual(a.predictor.config, { a: null, b: null, c: null, d: [null] });
  });
  test('an env value cannot be null', () => {
    onlyError(api('predictor: {type: python, path: predictor.py, env: {A: ~}}'), 'predictor.env.A');
  });
});

describe('unknown keys, at every level, with "did you mean"', () => {
  // [text, path, suggestion or null, needle whose position is the key's]
  const cases: [string, string, string | null][] = [
    [api(PY, 'nmae: x'), 'nmae', 'name'],
    [api(PY, 'endpoints: /x'), 'endpoints', 'endpoint'],
    [api(PY, 'Compute: {cpu: 1}'), 'Compute', 'compute'],
    [api(PY, 'replicas: 3'), 'replicas', null],
    [api('predictor:', '  type: python', '  path: predictor.py', '  pyhton_path: src'), 'predictor.pyhton_path', 'python_path'],
    [api('predictor:', '  type: python', '  path: predictor.py', '  configs: {}'), 'predictor.configs', 'config'],
    [api('predictor:', '  type: python', '  path: predictor.py', '  zzzzzz: 1'), 'predictor.zzzzzz', null],
    [api(PY, 'tracker:', '  model_type: regression', '  modeltype: regression'), 'tracker.modeltype', 'model_type'],
    [api(PY, 'compute:', '  cpus: 1'), 'compute.cpus', 'cpu'],
    [api(PY, 'compute:', '  memory: 1Gi'), 'compute.memory', 'mem'],
    [api(PY, 'compute:', '  gpus: 1'), 'compute.gpus', 'gpu'],
    [api(PY, 'autoscaling:', '  min_replica: 2'), 'autoscaling.min_replica', 'min_replicas'],
    [api(PY, 'autoscaling:', '  Window: 60s'), 'autoscaling.Window', 'window'],
    [api(PY, 'autoscaling:', '  target_concurrency: 2'), 'autoscaling.target_concurrency', null],
    [api(PY, 'update_strategy:', '  max_surg: 1'), 'update_strategy.max_surg', 'max_surge'],
    [api(PY, 'update_strategy:', '  max_unavailble: 1'), 'update_strategy.max_unavailble', 'max_unavailable'],
  ];
  for (const [text, path, hint] of cases) {
    test(`${path}${hint ? ` → ${hint}` : ''}`, () => {
      const key = path.split('.').at(-1)!;
      const issue = onlyError(text, path, new RegExp(`key "${key}" is not supported`));
      if (hint) assert.match(issue.message, new RegExp(`did you mean "${hint}"\\?`));
      else assert.doesNotMatch(issue.message, /did you mean/);
      assert.equal(at(issue), find(text, `${key}:`), 'the position is the key');
      assert.equal(issue.api, 'a');
    });
  }
  test('a non-string key in a section is unknown, not a crash', () => {
    onlyError(api(PY, 'compute:', '  1: x'), 'compute.1', /not supported/);
    onlyError(api(PY, 'autoscaling: {yes: 1}'), 'autoscaling.true', /not supported/);
  });
  test('every unknown key is reported, with the valid fields still checked', () => {
    const text = api(PY, 'autoscaling: {min_replica: 2, max_replicas: 0}', 'compute: {cpus: 1, mem: 1}');
    assert.deepEqual(pairsOf(text), [
      ['a', 'autoscaling.min_replica'],
      ['a', 'autoscaling.max_replicas'],
      ['a', 'compute.cpus'],
      ['a', 'compute.mem'],
    ]);
  });
  test('config and env are free-form', () => {
    const [a] = apisOf(api('predictor:', '  type: python', '  path: predictor.py', '  config: {anything: 1, nest: {deep: [1, {x: z}]}}', '  env: {ANY_NAME: v}'));
    assert.deepEqual(a.predictor.config, { anything: 1, nest: { deep: [1, { x: 'z' }] } });
    assert.deepEqual(a.predictor.env, { ANY_NAME: 'v' });
  });
});

describe('predictor.config keys must be strings at every nesting level', () => {
  const P = (config: string) => api('predictor:', '  type: python', '  path: predictor.py', `  config: ${config}`);
  const cases: [string, string, RegExp][] = [
    ['{1: a}', 'predictor.config.1', /keys must be strings \(got 1, an integer\)/],
    ['{a: {2.5: b}}', 'predictor.config.a.2.5', /got 2.5, a number/],
    ['{a: {b: {y: 1}}}', 'predictor.config.a.b.true', /got true, a boolean.*YAML 1.1/],
    ['{on: 1}', 'predictor.config.true', /boolean/],
    ['{a: [x, {3: y}]}', 'predictor.config.a.1.3', /got 3, an integer/],
    ['{~: 1}', 'predictor.config.null', /got null/],
    ['{[1, 2]: x}', 'predictor.config.1,2', /got a list/],
  ];
  for (const [config, path, message] of cases) {
    test(config, () => {
      const issue = onlyError(P(config), path, message);
      assert.equal(issue.api, 'a');
    });
  }
  test('the position is the bad key, even inside a list', () => {
    const text = api('predictor:', '  type: python', '  path: predictor.py', '  config:', '    a:', '      - x', '      - 3: y');
    const issue = onlyError(text, 'predictor.config.a.1.3');
    assert.equal(at(issue), find(text, '3: y'));
  });
  test('quoted keys are strings', () => {
    const [a] = apisOf(P('{"1": a, "yes": b, "~": c}'));
    assert.deepEqual(a.predictor.config, { '1': 'a', yes: 'b', '~': 'c' });
  });
  test('two bad keys, two errors', () => {
    assert.deepEqual(
      pairsOf(P('{1: a, b: {2: c}}')).map(([, p]) => p),
      ['predictor.config.1', 'predictor.config.b.2'],
    );
  });
});

describe('predictor.env', () => {
  const E = (env: string) => api('predictor:', '  type: python', '  path: predictor.py', '  env:', ...env.split('\n').map((l) => `    ${l}`));
  test('string values resolve as written', () => {
    assert.deepEqual(apisOf(E('A: "1"\nB: hello\nC: ""\ncortex_lower: x'))[0].predictor.env, { A: '1', B: 'hello', C: '', cortex_lower: 'x' });
  });
  test('CORTEX_ names are reserved, reported at the key', () => {
    const text = E('CORTEX_FOO: x');
    const issue = onlyError(text, 'predictor.env.CORTEX_FOO', /reserved/);
    assert.equal(at(issue), find(text, 'CORTEX_FOO'));
  });
  test('CORTEX_ alone and CORTEX_LOCAL_OTHER are reserved too', () => {
    onlyError(E('CORTEX_: x'), 'predictor.env.CORTEX_', /reserved/);
    onlyError(E('CORTEX_LOCAL_OTHER: x'), 'predictor.env.CORTEX_LOCAL_OTHER', /reserved/);
  });
  test('CORTEX_LOCAL_TF_MEMORY_LIMIT_MB is the one exception (cortex-local reads it)', () => {
    assert.deepEqual(apisOf(E('CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: "512"'))[0].predictor.env, { CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: '512' });
  });
  test('CORTEX_LOCAL_TF_MEMORY_LIMIT_MB given an int is a type error', () => {
    const text = E('CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: 512');
    const issue = onlyError(text, 'predictor.env.CORTEX_LOCAL_TF_MEMORY_LIMIT_MB', /must be a string \(got 512, an integer\)/);
    assert.equal(at(issue), find(text, '512'));
  });
  test('an int value is a type error at the value', () => {
    const text = E('A: 1');
    const issue = onlyError(text, 'predictor.env.A', /must be a string \(got 1, an integer\); write it in quotes/);
    assert.equal(at(issue), find(text, '1', 1));
  });
  test('a non-string name is an error', () => {
    onlyError(E('1: x'), 'predictor.env.1', /must be strings/);
  });
  test('every bad entry is reported', () => {
    assert.deepEqual(
      pairsOf(E('CORTEX_A: x\nB: 2\nC: ok\nCORTEX_D: y')).map(([, p]) => p),
      ['predictor.env.CORTEX_A', 'predictor.env.B', 'predictor.env.CORTEX_D'],
    );
  });
});

describe('endpoint', () => {
  const canonical: [string, string][] = [
    ['generate/', '/generate'],
    ['/generate', '/generate'],
    ['/generate/', '/generate'],
    ['generate', '/generate'],
    ['a/b/c', '/a/b/c'],
    ['/a/b/', '/a/b'],
    ['/A.b_c-D/9', '/A.b_c-D/9'],
    ['x', '/x'],
    ['"/a"', '/a'],
    ['/' + 'a'.repeat(999), '/' + 'a'.repeat(999)],
  ];
  for (const [given, expected] of canonical) {
    test(`${given.length > 40 ? `${given.slice(0, 12)}… (${given.length} chars)` : given} → ${expected.length > 40 ? `(${expected.length} chars)` : expected}`, () => {
      assert.equal(apisOf(api(PY, `endpoint: ${given}`))[0].endpoint, expected);
    });
  }
  const errors: [string, RegExp][] = [
    ['/c//v2', /"\/\/"/],
    ['//', /"\/\/"/],
    ['a//', /"\/\/"/],
    ['/', /cannot be "\/"/],
    ['"a b"', /letters, digits/],
    ['/a?x=1', /letters, digits/],
    ['/a%20b', /letters, digits/],
    ['/é', /letters, digits/],
    ['"/a\\\\b"', /letters, digits/],
    ['/' + 'a'.repeat(1000), /at most 1000 characters \(got 1001\)/],
    ['""', /must not be empty/],
  ];
  for (const [given, message] of errors) {
    test(`${given.length > 40 ? `(${given.length} chars)` : given} → error`, () => {
      const text = api(PY, `endpoint: ${given}`);
      const issue = onlyError(text, 'endpoint', message);
      assert.equal(at(issue), find(text, given.slice(0, 5)));
    });
  }
});

describe('name: ≤ 42 characters, then DNS-1035', () => {
  const valid = ['a', 'a-1', 'iris', 'text-gen', 'a'.repeat(42), 'a1b2', 'abc-def-ghi'];
  for (const n of valid) test(`${n} is valid`, () => assert.equal(apisOf(`- name: ${n}\n  ${PY}\n`)[0].name, n));
  const invalid: [string, RegExp][] = [
    ['a'.repeat(43), /at most 42 characters \(got 43\)/],
    ['Iris', /DNS-1035.*"Iris"/],
    ['API-1', /DNS-1035/],
    ['1a', /DNS-1035/],
    ['-a', /DNS-1035/],
    ['a-', /DNS-1035/],
    ['a_b', /DNS-1035/],
    ['a.b', /DNS-1035/],
    ['"a b"', /DNS-1035/],
  ];
  for (const [n, message] of invalid) {
    test(`${n.length > 20 ? `${n.length} chars` : n} is an error, labelled with the name as written`, () => {
      const text = `- name: ${n}\n  ${PY}\n`;
      const issue = onlyError(text, 'name', message);
      assert.equal(issue.api, n.replace(/"/g, ''));
      assert.equal(at(issue), '1:9');
    });
  }
  test('a missing name: "must be defined", api null, no endpoint error', () => {
    const issue = onlyError(`- ${PY}\n`, 'name', /must be defined/);
    assert.equal(issue.api, null);
    assert.equal(at(issue), '1:3');
  });
  test('a non-string name is labelled null', () => {
    assert.equal(onlyError(`- name: 5\n  ${PY}\n`, 'name').api, null);
  });
  test('an invalid name with an explicit endpoint still has its endpoint checked for duplicates', () => {
    const text = `- name: a\n  ${PY}\n- name: B\n  endpoint: a\n  ${PY}\n`;
    assert.deepEqual(pairsOf(text), [
      ['B', 'name'],
      ['B', 'endpoint'],
    ]);
  });
});

describe('duplicates: on each later API', () => {
  test('the same name twice: one error on the second, at its name', () => {
    const text = `- name: a\n  endpoint: /one\n  ${PY}\n- name: a\n  endpoint: /two\n  ${PY}\n`;
    const issue = onlyError(text, 'name', /name "a" is already used by api "a" \(cortex.yaml:1:9\)/);
    assert.equal(issue.api, 'a');
    assert.equal(issue.index, 1);
    assert.equal(at(issue), '4:9');
  });
  test('three times: errors on the second and the third', () => {
    const item = (e: string) => `- name: a\n  endpoint: ${e}\n  ${PY}\n`;
    assert.deepEqual(
      issuesOf(item('/1') + item('/2') + item('/3')).map((i) => [i.index, i.path]),
      [
        [1, 'name'],
        [2, 'name'],
      ],
    );
  });
  test('the same name with defaulted endpoints: only the name error (the endpoint is derived from it)', () => {
    const text = `- name: a\n  ${PY}\n- name: a\n  ${PY}\n`;
    assert.deepEqual(pairsOf(text), [['a', 'name']]);
  });
  test('the same name and the same written endpoint: both errors', () => {
    const text = `- name: a\n  endpoint: /x\n  ${PY}\n- name: a\n  endpoint: x/\n  ${PY}\n`;
    assert.deepEqual(pairsOf(text), [
      ['a', 'name'],
      ['a', 'endpoint'],
    ]);
  });
  test('the same canonical endpoint, written differently', () => {
    const text = `- name: a\n  endpoint: predict/\n  ${PY}\n- name: b\n  endpoint: /predict\n  ${PY}\n`;
    const issue = onlyError(text, 'endpoint', /endpoint "\/predict" is already used by api "a" \(cortex.yaml:2:13\)/);
    assert.equal(issue.api, 'b');
    assert.equal(at(issue), '5:13');
  });
  test('an explicit endpoint equal to another API\'s default', () => {
    const text = `- name: b\n  ${PY}\n- name: c\n  endpoint: /b\n  ${PY}\n`;
    assert.deepEqual(pairsOf(text), [['c', 'endpoint']]);
  });
  test('a default endpoint equal to an earlier explicit one: reported at the later item', () => {
    const text = `- name: c\n  endpoint: /b\n  ${PY}\n- name: b\n  ${PY}\n`;
    const issue = onlyError(text, 'endpoint');
    assert.equal(issue.api, 'b');
    assert.equal(issue.index, 1);
    assert.match(issue.message, /endpoint "\/b" \(the default, \/<name>\) is already used by api "c" \(cortex.yaml:2:13\)/);
    assert.equal(at(issue), '4:9', 'a defaulted endpoint points at the name it comes from');
  });
  test('duplicates are found even when the APIs have other errors', () => {
    const text = `- name: a\n  ${PY}\n  compute: {cpu: 1m}\n- name: a\n  endpoint: /other\n  predictor: {type: python, path: missing.py}\n`;
    assert.deepEqual(pairsOf(text), [
      ['a', 'compute.cpu'],
      ['a', 'name'],
      ['a', 'predictor.path'],
    ]);
  });
  test('an invalid endpoint takes no part in the duplicate check', () => {
    const text = `- name: a\n  endpoint: /x//y\n  ${PY}\n- name: b\n  endpoint: /x//y\n  ${PY}\n`;
    assert.deepEqual(pairsOf(text), [
      ['a', 'endpoint'],
      ['b', 'endpoint'],
    ]);
    assert.ok(issuesOf(text).every((i) => /"\/\/"/.test(i.message)));
  });
});

describe('predictor: type rules and files', () => {
  const P = (fields: string) => api(`predictor: {${fields}}`);
  test('type and path are required', () => {
    onlyError(P('path: predictor.py'), 'predictor.type', /must be defined/);
    onlyError(P('type: python'), 'predictor.path', /must be defined/);
    onlyError('- name: a\n', 'predictor', /must be defined/);
    onlyError('- name: a\n  compute: {cpu: 1}\n', 'predictor', /must be defined/);
  });
  test('path: relative to the project folder, resolved as written', () => {
    assert.equal(apisOf(P('type: python, path: ./predictor.py'))[0].predictor.path, './predictor.py');
    assert.equal(apisOf(P('type: python, path: src/util.py'))[0].predictor.path, 'src/util.py');
    // Cortex 0.15 looked path up among the project's files by relative path (routes-and-paths.test.ts)
    onlyError(P(`type: python, path: ${join(dir, 'predictor.py')}`), 'predictor.path', /must be a path relative to the project folder/);
  });
  test('path must name an existing file', () => {
    onlyError(P('type: python, path: missing.py'), 'predictor.path', /implementation file does not exist: "missing.py"/);
    onlyError(P('type: python, path: src'), 'predictor.path', /does not exist/);
  });
  test('model: not allowed for python', () => {
    onlyError(P('type: python, path: predictor.py, model: s3://b/k'), 'predictor.model', /not a supported field for the python predictor type/);
  });
  test('model: required for tensorflow and onnx', () => {
    onlyError(P('type: tensorflow, path: predictor.py'), 'predictor.model', /must be defined for the tensorflow predictor type/);
    onlyError(P('type: onnx, path: predictor.py'), 'predictor.model', /must be defined for the onnx predictor type/);
  });
  test('signature_key: only for tensorflow', () => {
    assert.equal(apisOf(P('type: tensorflow, path: predictor.py, model: tf, signature_key: serving_default'))[0].predictor.signature_key, 'serving_default');
    onlyError(P('type: python, path: predictor.py, signature_key: k'), 'predictor.signature_key', /not a supported field for the python predictor type/);
    onlyError(P('type: onnx, path: predictor.py, model: model.onnx, signature_key: k'), 'predictor.signature_key', /not a supported field for the onnx predictor type/);
  });
  test('python with model and signature_key: both reported', () => {
    assert.deepEqual(
      pairsOf(P('type: python, path: predictor.py, model: m, signature_key: k')).map(([, p]) => p),
      ['predictor.model', 'predictor.signature_key'],
    );
  });
  test('an invalid type checks no type-dependent rule', () => {
    onlyError(P('type: keras, path: predictor.py, model: m, signature_key: k'), 'predictor.type');
  });

  describe('S3 models: valid paths kept as written, never looked up', () => {
    for (const model of ['s3://my-bucket/clf.onnx', 's3://b/k', 's3://b/dir/sub/model', 's3://b/k/']) {
      test(`${model} is valid`, () => {
        assert.equal(apisOf(P(`type: onnx, path: predictor.py, model: ${model}`))[0].predictor.model, model);
        assert.equal(apisOf(P(`type: tensorflow, path: predictor.py, model: ${model}`))[0].predictor.model, model);
      });
    }
    for (const model of ['s3://', 's3://b', 's3://b/', 's3:///k', 's3://b//k']) {
      test(`${model} is not`, () => {
        onlyError(P(`type: onnx, path: predictor.py, model: "${model}"`), 'predictor.model', /valid S3 path/);
        onlyError(P(`type: tensorflow, path: predictor.py, model: "${model}"`), 'predictor.model', /valid S3 path/);
      });
    }
  });

  describe('local onnx models', () => {
    test('an existing file, resolved to an absolute path', () => {
      assert.equal(apisOf(P('type: onnx, path: predictor.py, model: model.onnx'))[0].predictor.model, join(dir, 'model.onnx'));
      assert.equal(apisOf(P('type: onnx, path: predictor.py, model: ./models/clf.onnx'))[0].predictor.model, join(dir, 'models', 'clf.onnx'));
      assert.equal(apisOf(P(`type: onnx, path: predictor.py, model: ${join(dir, 'model.onnx')}`))[0].predictor.model, join(dir, 'model.onnx'));
    });
    test('a missing file or a folder is an error', () => {
      onlyError(P('type: onnx, path: predictor.py, model: nope.onnx'), 'predictor.model', new RegExp(`does not exist: ${join(dir, 'nope.onnx')}`));
      onlyError(P('type: onnx, path: predictor.py, model: models'), 'predictor.model', /does not exist/);
    });
  });

  describe('local tensorflow models', () => {
    const tf = (model: string) => apisOf(P(`type: tensorflow, path: predictor.py, model: ${model}`))[0].predictor.model;
    test('a .zip file', () => assert.equal(tf('model.zip'), join(dir, 'model.zip')));
    test('a SavedModel folder', () => {
      assert.equal(tf('tf'), join(dir, 'tf'));
      assert.equal(tf('tf/'), join(dir, 'tf'));
      assert.equal(tf(join(dir, 'tf')), join(dir, 'tf'));
    });
    test('numbered versions: the highest valid one wins (10 is incomplete, 3a is not a number)', () => {
      assert.equal(tf('tfv'), join(dir, 'tfv', '2'));
    });
    const bad: [string, string][] = [
      ['not a .zip file', 'notes.txt'],
      ['an onnx file', 'model.onnx'],
      ['a missing path', 'nope'],
      ['an empty folder', 'empty'],
      ['a folder of python files', 'src'],
      ['versions none of which is complete', 'tfbad'],
    ];
    for (const [what, model] of bad) {
      test(`${what} is an error`, () => {
        onlyError(P(`type: tensorflow, path: predictor.py, model: ${model}`), 'predictor.model', /not a TensorFlow SavedModel/);
      });
    }
  });

  describe('python_path', () => {
    const pp = (value: string) => P(`type: python, path: predictor.py, python_path: ${value}`);
    test('relative to the project folder, absolute, no trailing /', () => {
      assert.equal(apisOf(pp('src'))[0].predictor.python_path, join(dir, 'src'));
      assert.equal(apisOf(pp('src/'))[0].predictor.python_path, join(dir, 'src'));
      assert.equal(apisOf(pp('./src'))[0].predictor.python_path, join(dir, 'src'));
      assert.equal(apisOf(pp('.'))[0].predictor.python_path, dir);
      assert.equal(apisOf(pp('./'))[0].predictor.python_path, dir);
      onlyError(pp(`${dir}/src/`), 'predictor.python_path', /must be a path relative to the project folder/);
    });
    test('a folder holding files only deeper down is fine', () => {
      assert.equal(apisOf(pp('nested'))[0].predictor.python_path, join(dir, 'nested'));
    });
    test('a missing folder is an error', () => {
      onlyError(pp('nope'), 'predictor.python_path', new RegExp(`must be an existing folder \\(${join(dir, 'nope')} is not one\\)`));
    });
    test('a file is not a folder', () => {
      onlyError(pp('predictor.py'), 'predictor.python_path', /existing folder/);
    });
    test('an empty folder is an error', () => {
      onlyError(pp('empty'), 'predictor.python_path', /holds no files/);
    });
  });
});

describe('tracker', () => {
  test('absent → null; present → key and model_type', () => {
    assert.equal(apisOf(api(PY))[0].tracker, null);
    assert.deepEqual(apisOf(api(PY, 'tracker: {model_type: classification}'))[0].tracker, { key: null, model_type: 'classification' });
    assert.deepEqual(apisOf(api(PY, 'tracker: {key: label, model_type: regression}'))[0].tracker, { key: 'label', model_type: 'regression' });
  });
  test('model_type is required when tracker is present', () => {
    onlyError(api(PY, 'tracker: {}'), 'tracker.model_type', /must be defined/);
    onlyError(api(PY, 'tracker: {key: k}'), 'tracker.model_type', /must be defined/);
  });
  test('model_type "" is an error, as is any other value', () => {
    onlyError(api(PY, 'tracker: {model_type: ""}'), 'tracker.model_type', /classification, regression \(got "", a string\)/);
    onlyError(api(PY, 'tracker: {model_type: Classification}'), 'tracker.model_type', /got "Classification"/);
  });
  test('key "" is an error', () => {
    onlyError(api(PY, 'tracker: {key: "", model_type: regression}'), 'tracker.key', /must not be empty/);
  });
});

describe('update_strategy', () => {
  const forms: [string, string | number][] = [
    ['25%', '25%'],
    ['0%', '0%'],
    ['100%', '100%'],
    ['"3"', '3'],
    ['3', 3],
    ['0', 0],
    ['"0"', '0'],
    ['"+5"', '+5'],
    ['"-0"', '-0'],
    ['"007"', '007'],
    ['"+0%"', '+0%'],
  ];
  for (const [written, resolved] of forms) {
    for (const key of ['max_surge', 'max_unavailable'] as const) {
      test(`${key}: ${written} → ${JSON.stringify(resolved)} (keeps its YAML type)`, () => {
        assert.deepEqual(apisOf(withField('update_strategy', key, written))[0].update_strategy, {
          max_surge: '25%',
          max_unavailable: '25%',
          [key]: resolved,
        });
      });
    }
  }
  const bad = ['101%', '-1', '"-1"', '"-1%"', '"5.5"', '"1.5%"', '1.5', 'abc', '"%"', '"25 %"', '"0x10"', '"1e2"', '""', 'true', '[1]', '"25%%"', '"3000000000"'];
  for (const written of bad) {
    test(`max_surge: ${written} → error`, () => void onlyError(withField('update_strategy', 'max_surge', written), 'update_strategy.max_surge'));
  }
  test('messages name the bad value', () => {
    onlyError(withField('update_strategy', 'max_surge', '101%'), 'update_strategy.max_surge', /"0%" to "100%" \(got "101%"\)/);
    onlyError(withField('update_strategy', 'max_unavailable', '-1'), 'update_strategy.max_unavailable', /≥ 0 \(got -1\)/);
  });
  const zeros = ['0', '"0"', '0%', '"+0"', '"-0"', '"00"', '"-0%"'];
  for (const surge of zeros) {
    for (const unavailable of zeros) {
      test(`both zero: max_surge ${surge}, max_unavailable ${unavailable} → error at update_strategy`, () => {
        const text = api(PY, `update_strategy: {max_surge: ${surge}, max_unavailable: ${unavailable}}`);
        const issue = onlyError(text, 'update_strategy', /cannot both be zero/);
        assert.equal(at(issue), find(text, '{max_surge'));
      });
    }
  }
  test('one zero, the other defaulted to 25%: fine', () => {
    assert.deepEqual(apisOf(withField('update_strategy', 'max_surge', '0'))[0].update_strategy, { max_surge: 0, max_unavailable: '25%' });
    assert.deepEqual(apisOf(withField('update_strategy', 'max_unavailable', '0%'))[0].update_strategy, { max_surge: '25%', max_unavailable: '0%' });
  });
  test('a bad value and a zero: only the bad value is reported', () => {
    onlyError(api(PY, 'update_strategy: {max_surge: -1, max_unavailable: 0}'), 'update_strategy.max_surge');
  });
});

describe('cross-field rules and derived defaults', () => {
  const A = (fields: string) => api(PY, `autoscaling: {${fields}}`);
  test('min_replicas > max_replicas → min_replicas (and the derived init_replicas)', () => {
    const text = A('min_replicas: 4, max_replicas: 2');
    const issues = issuesOf(text);
    assert.deepEqual(issues.map((i) => i.path), ['autoscaling.min_replicas', 'autoscaling.init_replicas']);
    // the derived init_replicas points at the min_replicas it comes from
    assert.deepEqual(issues.map(at), [find(text, '4'), find(text, '4')]);
  });
  test('min_replicas > max_replicas with init_replicas written and in range of neither', () => {
    assert.deepEqual(pairsOf(A('min_replicas: 4, max_replicas: 2, init_replicas: 3')).map(([, p]) => p), [
      'autoscaling.min_replicas',
      'autoscaling.init_replicas',
      'autoscaling.init_replicas',
    ]);
  });
  test('min_replicas > the default max_replicas', () => {
    assert.deepEqual(pairsOf(A('min_replicas: 101')).map(([, p]) => p), ['autoscaling.min_replicas', 'autoscaling.init_replicas']);
  });
  test('init_replicas > max_replicas → init_replicas', () => {
    onlyError(A('init_replicas: 5, max_replicas: 3'), 'autoscaling.init_replicas', /≤ max_replicas \(got 5 > 3\)/);
  });
  test('init_replicas < min_replicas → init_replicas', () => {
    onlyError(A('min_replicas: 2, init_replicas: 1'), 'autoscaling.init_replicas', /≥ min_replicas \(got 1 < 2\)/);
  });
  test('equal values are fine', () => {
    assert.deepEqual(
      apisOf(A('min_replicas: 3, max_replicas: 3, init_replicas: 3'))[0].autoscaling,
      { ...DEFAULT_AUTOSCALING, min_replicas: 3, max_replicas: 3, init_replicas: 3 },
    );
  });
  test('max_replicas below the default min_replicas: impossible (both ≥ 1), and 1 = 1 is fine', () => {
    assert.equal(apisOf(A('max_replicas: 1'))[0].autoscaling.max_replicas, 1);
  });

  describe('one bad value gives one error', () => {
    const cases: [string, string][] = [
      ['min_replicas: 0', 'autoscaling.min_replicas'],
      ['min_replicas: 0, max_replicas: 2', 'autoscaling.min_replicas'],
      ['min_replicas: "x", init_replicas: 5, max_replicas: 10', 'autoscaling.min_replicas'],
      ['min_replicas: 1.5, max_replicas: 1', 'autoscaling.min_replicas'],
      ['min_replicas: 2147483648', 'autoscaling.min_replicas'],
      ['max_replicas: 0', 'autoscaling.max_replicas'],
      ['max_replicas: 0, min_replicas: 5, init_replicas: 6', 'autoscaling.max_replicas'],
      ['max_replicas: "3", min_replicas: 5', 'autoscaling.max_replicas'],
      ['init_replicas: 0', 'autoscaling.init_replicas'],
      ['init_replicas: -5, min_replicas: 2', 'autoscaling.init_replicas'],
      ['workers_per_replica: 21', 'autoscaling.workers_per_replica'],
      ['workers_per_replica: 0, threads_per_worker: 2', 'autoscaling.workers_per_replica'],
      ['threads_per_worker: 0', 'autoscaling.threads_per_worker'],
      ['threads_per_worker: x', 'autoscaling.threads_per_worker'],
      ['target_replica_concurrency: 0, workers_per_replica: 2', 'autoscaling.target_replica_concurrency'],
    ];
    for (const [fields, path] of cases) test(`{${fields}} → only ${path}`, () => void onlyError(A(fields), path));
    test('a bad name gives no endpoint error', () => {
      onlyError(`- name: 5\n  ${PY}\n`, 'name');
      onlyError(`- name: Bad_Name\n  ${PY}\n`, 'name');
    });
    test('a bad predictor type gives no model error', () => {
      onlyError(api('predictor: {type: ~, path: predictor.py}'), 'predictor.type');
    });
    test('a bad model value gives no "must be defined"', () => {
      onlyError(api('predictor: {type: onnx, path: predictor.py, model: 7}'), 'predictor.model');
    });
    test('one bad max_surge gives no both-zero error', () => {
      onlyError(api(PY, 'update_strategy: {max_surge: "0", max_unavailable: "x"}'), 'update_strategy.max_unavailable');
    });
  });
});

describe('YAML 1.1 dialect (go-yaml v2)', () => {
  const config = (value: string) => apisOf(api('predictor:', '  type: python', '  path: predictor.py', `  config: {v: ${value}}`))[0].predictor.config.v;
  const truthy = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'];
  const falsy = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'];
  for (const v of truthy) test(`${v} is true`, () => assert.equal(config(v), true));
  for (const v of falsy) test(`${v} is false`, () => assert.equal(config(v), false));
  const values: [string, unknown][] = [
    ['~', null],
    ['null', null],
    ['Null', null],
    ['NULL', null],
    ['0x1F', 31],
    ['010', 8],
    ['00', 0],
    ['-07', -7],
    ['1_000', 1000],
    ['129e6', 129000000],
    ['1.5e3', 1500],
    ['2020-01-01', '2020-01-01'],
    ['2001-12-14t21:59:43.10-05:00', '2001-12-14t21:59:43.10-05:00'],
    ['1:30', '1:30'],
    ['190:20:30', '190:20:30'],
    ['"yes"', 'yes'],
    ["'@x'", '@x'],
    ['"@x"', '@x'],
    ['a@b', 'a@b'],
  ];
  for (const [v, expected] of values) test(`${v} → ${JSON.stringify(expected)}`, () => assert.deepEqual(config(v), expected));

  // go-yaml v2 reads a plain scalar as a float only when it looks like one
  // (yamlStyleFloat); the yaml package's 1.1 schema would make these NaN.
  for (const v of ['.', '-.', '+.', 'e3', 'E5', '.e3', '1e', 'e']) {
    test(`${v} stays a string`, () => assert.equal(config(v), v));
  }
  const floats: [string, number][] = [
    ['.5', 0.5],
    ['-.5e3', -500],
    ['5.', 5],
    ['1_0.5', 10.5],
    ['1e3', 1000],
    ['.inf', Infinity],
    ['-.Inf', -Infinity],
    // strconv.ParseInt(_, 0, _) reads a leading 0 as octal: 08 is no integer, so a float
    ['08', 8],
    ['-09', -9],
  ];
  for (const [v, n] of floats) test(`${v} is the float ${n}`, () => assert.equal(config(v), n));
  test('python_path: . is the project folder (a string, not NaN)', () => {
    assert.equal(apisOf(api('predictor: {type: python, path: predictor.py, python_path: .}'))[0].predictor.python_path, dir);
  });
  test('a name such as e2 is a string', () => {
    assert.equal(apisOf(`- name: e2\n  ${PY}\n`)[0].name, 'e2');
  });
  test('an int field given a whole-number float (2.0, 1e3) is a type error, as in Cortex', () => {
    onlyError(withField('autoscaling', 'min_replicas', '2.0'), 'autoscaling.min_replicas', /must be an integer \(got 2\.0, a float\)/);
    onlyError(withField('autoscaling', 'max_replicas', '1e3'), 'autoscaling.max_replicas', /must be an integer \(got 1e3, a float\)/);
    onlyError(withField('compute', 'gpu', '1.'), 'compute.gpu', /got 1\., a float/);
    onlyError(withField('update_strategy', 'max_surge', '2.0'), 'update_strategy.max_surge', /got 2\.0, a float/);
  });
  test('a whole-number float reached through an alias or a merge is still a float', () => {
    assert.deepEqual(pairsOf(api(PY, 'compute: {gpu: &g 1.0}', 'autoscaling: {min_replicas: *g}')), [
      ['a', 'compute.gpu'],
      ['a', 'autoscaling.min_replicas'],
    ]);
    const text = `- name: a\n  ${PY}\n  autoscaling: &s {max_replicas: 3.0}\n- name: b\n  ${PY}\n  autoscaling:\n    <<: *s\n`;
    assert.deepEqual(pairsOf(text), [
      ['a', 'autoscaling.max_replicas'],
      ['b', 'autoscaling.max_replicas'],
    ]);
    const aliased = `- name: a\n  ${PY}\n  compute: {cpu: &n 2.0}\n  autoscaling: {min_replicas: *n}\n`;
    assert.deepEqual(pairsOf(aliased), [['a', 'autoscaling.min_replicas']]);
  });
  test('float fields take whole-number floats and ints alike', () => {
    const a = apisOf(api(PY, 'autoscaling: {target_replica_concurrency: 2.0, max_upscale_factor: 3, upscale_tolerance: 1e0}'))[0].autoscaling;
    assert.deepEqual([a.target_replica_concurrency, a.max_upscale_factor, a.upscale_tolerance], [2, 3, 1]);
    assert.equal(apisOf(withField('compute', 'cpu', '2.0'))[0].compute.cpu, 2);
  });
  test('an explicit key wins over a merged one, wherever the << is', () => {
    const text = `- name: a\n  ${PY}\n  autoscaling: &s {min_replicas: 2, max_replicas: 9}\n- name: b\n  ${PY}\n  autoscaling:\n    max_replicas: 4\n    <<: *s\n`;
    const [, b] = apisOf(text);
    assert.deepEqual([b.autoscaling.min_replicas, b.autoscaling.max_replicas], [2, 4]);
  });
  test('<< with a list of sources: earlier sources win', () => {
    const text = `- name: a\n  ${PY}\n  compute: &x {cpu: 1}\n  autoscaling: &y {min_replicas: 2}\n- name: b\n  ${PY}\n  compute:\n    <<: [*x, {cpu: 2, gpu: 1}]\n`;
    assert.deepEqual(apisOf(text)[1].compute, { cpu: 1, gpu: 1, mem: null });
  });
  test('<< given a scalar is an error', () => {
    const issues = issuesOf(`- name: a\n  ${PY}\n  compute:\n    <<: 5\n`);
    assert.match(issues[0].message, /^invalid yaml: a << merge takes a mapping/);
    assert.equal(at(issues[0]), '4:9');
  });
  test('an alias inside its own anchor is an error, not a hang', () => {
    const issues = issuesOf(`- name: a\n  ${PY}\n  predictor_x: &r [*r]\n`);
    assert.match(issues[0].message, /^invalid yaml: alias \*r/);
  });

  test('0x1F and 1_000 are ints where ints are required', () => {
    const a = apisOf(api(PY, 'autoscaling: {min_replicas: 0x1F, max_replica_concurrency: 1_000}'))[0].autoscaling;
    assert.equal(a.min_replicas, 31);
    assert.equal(a.init_replicas, 31);
    assert.equal(a.max_replica_concurrency, 1000);
  });
  test('yes is a boolean, not a string, for a string field; the message says to quote it', () => {
    onlyError(api(PY, 'tracker: {model_type: yes}'), 'tracker.model_type', /got true, a boolean; YAML 1.1 .*quote the value/);
    onlyError(api(PY, 'tracker: {key: off, model_type: regression}'), 'tracker.key', /must be a string \(got false, a boolean; YAML 1.1 .*quote/);
    onlyError(`- name: n\n  ${PY}\n`, 'name', /got false, a boolean; YAML 1.1/);
  });
  test('a duplicate key silently keeps the last value', () => {
    const text = api(PY, 'autoscaling:', '  min_replicas: 50', '  min_replicas: 2', 'name: b');
    const [a] = apisOf(text);
    assert.equal(a.name, 'b');
    assert.equal(a.autoscaling.min_replicas, 2);
  });
  test('a duplicate key: errors point at the last value', () => {
    const text = api(PY, 'autoscaling:', '  min_replicas: 2', '  min_replicas: 0');
    assert.equal(at(onlyError(text, 'autoscaling.min_replicas')), find(text, '0\n'));
  });
  test('anchors, aliases and << merge keys', () => {
    const text = `- name: a
  predictor: &pred
    type: python
    path: predictor.py
  autoscaling: &scale
    min_replicas: 2
    max_replicas: 8
- name: b
  predictor: *pred
  autoscaling:
    <<: *scale
    max_replicas: 4
- name: c
  predictor:
    <<: *pred
    config: {k: v}
  compute: {cpu: 1}
`;
    const [a, b, c] = apisOf(text);
    assert.deepEqual([a.autoscaling.min_replicas, a.autoscaling.max_replicas], [2, 8]);
    assert.deepEqual([b.autoscaling.min_replicas, b.autoscaling.max_replicas, b.autoscaling.init_replicas], [2, 4, 2]);
    assert.equal(b.predictor.path, 'predictor.py');
    assert.deepEqual(c.predictor.config, { k: 'v' });
    assert.equal(c.predictor.type, 'python');
  });
  test('a merged-in bad value is reported (at the merging mapping)', () => {
    const text = `- name: a
  ${PY}
  autoscaling: &scale
    min_replicas: 2
- name: b
  ${PY}
  autoscaling:
    <<: *scale
    max_replicas: 1
`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.api, i.path]),
      [
        ['b', 'autoscaling.min_replicas'],
        ['b', 'autoscaling.init_replicas'],
      ],
    );
  });
  test('an unquoted @ value is rejected with a clear message', () => {
    const text = api(PY, 'endpoint: @x');
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].api, null);
    assert.equal(issues[0].path, '');
    assert.match(issues[0].message, /^invalid yaml: .*cannot start with @.*quote/);
    assert.equal(at(issues[0]), find(text, '@x'));
  });
  test('an unquoted @ inside config is rejected too', () => {
    assert.match(issuesOf(api('predictor: {type: python, path: predictor.py, config: {a: @ref}}'))[0].message, /cannot start with @/);
  });
  test('a quoted @ value is a plain string', () => {
    assert.equal(apisOf(api(PY, 'endpoint: "@x"').replace('"@x"', '"x"'))[0].endpoint, '/x');
    assert.equal(config('"@model"'), '@model');
  });
});

describe('file level', () => {
  const fileError = (text: string) => {
    const issues = issuesOf(text);
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0].api, null);
    assert.equal(issues[0].path, '');
    return issues[0];
  };
  for (const [what, text] of [
    ['an empty file', ''],
    ['only whitespace', '  \n\n\t\n'],
    ['only comments', '# nothing here\n   # at all\n'],
    ['an empty list', '[]\n'],
    ['an empty list with a comment', '# apis\n[]  # none\n'],
    ['a document marker only', '---\n'],
  ]) {
    test(`${what}: at least one API`, () => assert.match(fileError(text).message, /^at least one API must be configured$/));
  }
  test('a mapping: must contain a list of maps', () => {
    const issue = fileError('name: iris\npredictor: {type: python}\n');
    assert.equal(issue.message, 'cortex.yaml must contain a list of maps');
    assert.equal(at(issue), '1:1');
  });
  for (const text of ['hello\n', '5\n', 'true\n', '"- name: a"\n']) {
    test(`a scalar (${text.trim()}): must contain a list of maps`, () => {
      assert.match(fileError(text).message, /must contain a list of maps/);
    });
  }
  test('the message names the file as given', () => {
    const r = resolveConfigText('a: 1\n', join(dir, 'other.yaml'), dir);
    assert.equal(r.ok, false);
    assert.match((r as { issues: ConfigIssue[] }).issues[0].message, /^other.yaml must contain a list of maps/);
  });
  const items: [string, string, RegExp][] = [
    ['a scalar item', '- iris\n', /API #1 must be a mapping \(got "iris", a string\)/],
    ['a number item', '- 5\n', /API #1 must be a mapping/],
    ['a list item', '- [a, b]\n', /API #1 must be a mapping \(got a list\)/],
    ['an empty item', '-\n', /API #1 .*cannot be null/],
    ['a null item', '- ~\n', /API #1 .*cannot be null/],
  ];
  for (const [what, text, message] of items) {
    test(`${what}: {api: null, path: ""}`, () => {
      const issue = fileError(text);
      assert.match(issue.message, message);
      assert.equal(issue.index, 0);
    });
  }
  test('a bad item among good ones: only the bad one, at its position, with its number', () => {
    const text = `- name: a\n  ${PY}\n- 42\n- name: b\n  ${PY}\n`;
    const issue = fileError(text);
    assert.match(issue.message, /API #2 must be a mapping/);
    assert.equal(at(issue), '3:3');
  });
  test('a YAML syntax error: "invalid yaml", with its position', () => {
    const text = `- name: a\n  ${PY}\n  compute: {cpu: 1]\n`;
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].api, null);
    assert.equal(issues[0].path, '');
    assert.match(issues[0].message, /^invalid yaml: .*end with a \}/);
    assert.doesNotMatch(issues[0].message, /\n/);
    assert.equal(at(issues[0]), find(text, ']'));
  });
  test('an unclosed flow mapping: the error is at the end of the file, where the } is missing', () => {
    const issues = issuesOf(`- name: a\n  ${PY}\n  compute: {cpu: 1\n`);
    assert.match(issues[0].message, /^invalid yaml: /);
    assert.equal(at(issues[0]), '4:1');
  });
  test('an unclosed quote', () => {
    const issues = issuesOf(`- name: a\n  ${PY}\n  endpoint: "abc\n`);
    assert.match(issues[0].message, /^invalid yaml: .*quote/);
  });
  test('bad indentation is a syntax error, not a crash', () => {
    const issues = issuesOf('- name: a\n predictor: x\n  - b\n');
    assert.match(issues[0].message, /^invalid yaml: /);
  });
  test('a tab indent is a syntax error', () => {
    assert.match(issuesOf('- name: a\n\tpredictor: {}\n')[0].message, /^invalid yaml: /);
  });
  test('an alias to an unknown anchor is a syntax error', () => {
    assert.match(issuesOf(`- name: a\n  predictor: *nope\n`)[0].message, /^invalid yaml: /);
  });
  test('a billion-laughs alias bomb is refused, not expanded', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const text = `- name: a\n  ${PY}\n  predictor_extra:\n${lines.map((l) => `    ${l}`).join('\n')}\n`;
    const started = Date.now();
    const issues = issuesOf(text);
    assert.ok(Date.now() - started < 2000);
    assert.equal(issues[0].path, '');
  });
  test('a BOM-free multi-document file is a syntax error', () => {
    assert.match(issuesOf(`- name: a\n  ${PY}\n---\n- name: b\n  ${PY}\n`)[0].message, /^invalid yaml: /);
  });
});

describe('all errors are reported, sorted by position', () => {
  test('errors across items and fields come in file order', () => {
    const text = `- name: Bad
  predictor: {type: python, path: nope.py}
  compute: {cpu: 1m, mem: 1}
- name: ok
  ${PY}
- 7
- name: x
  ${PY}
  autoscaling: {window: 5s, workers_per_replica: 50}
`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.api, i.path, at(i)]),
      [
        ['Bad', 'name', '1:9'],
        ['Bad', 'predictor.path', find(text, 'nope.py')],
        ['Bad', 'compute.cpu', find(text, '1m')],
        ['Bad', 'compute.mem', find(text, '1}')],
        [null, '', '6:3'],
        ['x', 'autoscaling.window', find(text, '5s')],
        ['x', 'autoscaling.workers_per_replica', find(text, '50')],
      ],
    );
    assert.deepEqual(
      issues.map((i) => i.index),
      [0, 0, 0, 0, 2, 3, 3],
    );
  });
});

describe('error positions (line:column)', () => {
  test('block-style values, keys, nulls and missing fields', () => {
    const text = `- name: a
  predictor:
    type: python
    path: predictor.py
    pythonpath: src
  compute:
    cpu: 5m
    mem:
  autoscaling:
    min_replicas: 0
    window: 45s
`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, at(i)]),
      [
        ['predictor.pythonpath', '5:5'], // the unknown key itself
        ['compute.cpu', '7:10'], // the value
        ['compute.mem', '8:5'], // a null value: the key
        ['autoscaling.min_replicas', '10:19'],
        ['autoscaling.window', '11:13'],
      ],
    );
  });
  test('flow-style values', () => {
    const text = `- name: a\n  ${PY}\n  autoscaling: {min_replicas: 4, max_replicas: 2}\n`;
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => [i.path, at(i)]),
      [
        ['autoscaling.min_replicas', '3:31'],
        ['autoscaling.init_replicas', '3:31'], // derived from min_replicas: points there
      ],
    );
  });
  test('a missing required section points at the item', () => {
    const text = `- name: a\n  ${PY}\n- name: b\n  compute: {}\n`;
    assert.equal(at(onlyError(text, 'predictor')), '3:3');
  });
  test('a model rule points at the model value; a missing model at the predictor', () => {
    const t1 = api('predictor:', '  type: onnx', '  path: predictor.py', '  model: missing.onnx');
    assert.equal(at(onlyError(t1, 'predictor.model')), find(t1, 'missing.onnx'));
    const t2 = api('predictor:', '  type: onnx', '  path: predictor.py');
    assert.equal(at(onlyError(t2, 'predictor.model')), find(t2, 'type'));
  });
  test('positions follow the item, not the first API', () => {
    const text = `- name: a\n  ${PY}\n- name: b\n  ${PY}\n  compute:\n    gpu: -2\n`;
    const issue = onlyError(text, 'compute.gpu');
    assert.equal(issue.api, 'b');
    assert.equal(at(issue), '6:10');
  });
  test('a YAML syntax error points at the problem', () => {
    const text = `- name: a\n  ${PY}\n  compute: {cpu: @1}\n`;
    assert.equal(at(issuesOf(text)[0]), find(text, '@1'));
  });
  test('CRLF line endings count lines the same way', () => {
    const text = `- name: a\r\n  ${PY}\r\n  compute:\r\n    cpu: 1m\r\n`;
    assert.equal(at(onlyError(text, 'compute.cpu')), '4:10');
  });
  test('a multi-byte character before the error counts as one column', () => {
    const text = `- name: a\n  ${PY}\n  predictor_x: {}\n  compute: {mem: "é", cpu: 1m}\n`;
    const issues = issuesOf(text);
    assert.equal(at(issues.find((i) => i.path === 'compute.cpu')!), '4:28');
    assert.equal(find(text, '1m}'), '4:28');
  });
});

describe('resolveAutoscalingBlock (shared with simulate traces)', () => {
  test('a plain object with defaults filled in', () => {
    const r = resolveAutoscalingBlock({ min_replicas: 2, window: '20s' });
    assert.deepEqual(r, { ok: true, value: { ...DEFAULT_AUTOSCALING, min_replicas: 2, init_replicas: 2, window: 20 } });
  });
  test('absent → every default', () => {
    assert.deepEqual(resolveAutoscalingBlock(undefined), { ok: true, value: DEFAULT_AUTOSCALING });
  });
  test('every problem, with dot paths', () => {
    const r = resolveAutoscalingBlock({ min_replica: 2, window: 60, max_upscale_factor: 1 });
    assert.equal(r.ok, false);
    assert.deepEqual(
      (r as { issues: { path: string }[] }).issues.map((i) => i.path),
      ['autoscaling.min_replica', 'autoscaling.window', 'autoscaling.max_upscale_factor'],
    );
  });
});
