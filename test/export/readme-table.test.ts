// The README's two mapping tables against the code: for each cortex.yaml
// field, change it and see which paths of the export change. They must be
// exactly the paths the row names; a row marked — must change nothing and
// find the field in EXPORT_NOTES.md's "not carried over" list.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResolvedApi } from '../../src/config/types.ts';
import { inferenceService } from '../../src/export/kserve.ts';
import { serveApplication } from '../../src/export/rayserve.ts';
import type { ApiExport } from '../../src/export/types.ts';
import { oneApi, REPO } from './project.ts';

interface Row {
  field: string;
  paths: string[];
}

/** The rows of the table under `heading`: backticked field, backticked paths (or —), how. */
function readTable(heading: string): Row[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  assert.notEqual(start, -1, `README has no "${heading}"`);
  const rows: Row[] = [];
  let inTable = false;
  for (const line of readme.slice(start + heading.length + 2).split('\n')) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (!cells[0].startsWith('`')) continue;
    rows.push({ field: cells[0].replaceAll('`', ''), paths: cells[1] === '—' ? [] : [...cells[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]) });
  }
  return rows;
}

/** Leaf paths of a value, written as the README writes them: a.b[0].c, a["x/y"]. */
function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, /^[A-Za-z_]\w*$/.test(k) ? (prefix ? `${prefix}.${k}` : k) : `${prefix}[${JSON.stringify(k)}]`, out);
  } else out.set(prefix, value);
  return out;
}

function changedPaths(a: Map<string, unknown>, b: Map<string, unknown>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** The fields of the resolved API, as the tables name them (`config`, `env` and `tracker` whole). */
function resolvedFields(api: ResolvedApi): string[] {
  const out: string[] = [];
  const walk = (value: object, prefix: string) => {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !['config', 'env'].includes(k)) walk(v, path);
      else out.push(path);
    }
  };
  walk(api, '');
  return out;
}

/** Each field changed to another valid value. */
function perturb(api: ResolvedApi, field: string, projectDir: string): ResolvedApi {
  const a = structuredClone(api);
  const set: Record<string, () => void> = {
    name: () => (a.name = 'other'),
    endpoint: () => (a.endpoint = '/other/path'),
    'predictor.type': () => (a.predictor.type = 'onnx'),
    'predictor.path': () => (a.predictor.path = 'other.py'),
    'predictor.model': () => (a.predictor.model = 's3://bucket/model.onnx'),
    'predictor.signature_key': () => (a.predictor.signature_key = 'serving_default'),
    'predictor.config': () => (a.predictor.config = { threshold: 0.5 }),
    'predictor.python_path': () => (a.predictor.python_path = join(projectDir, 'src')),
    'predictor.env': () => (a.predictor.env = { MODE: 'fast' }),
    tracker: () => (a.tracker = { key: null, model_type: 'regression' }),
    'compute.cpu': () => (a.compute.cpu = 2),
    'compute.gpu': () => (a.compute.gpu = 1),
    'compute.mem': () => (a.compute.mem = 2 ** 30),
    'update_strategy.max_surge': () => (a.update_strategy.max_surge = 2),
    'update_strategy.max_unavailable': () => (a.update_strategy.max_unavailable = '50%'),
  };
  const autoscaling: Record<string, number> = {
    min_replicas: 3,
    max_replicas: 50,
    init_replicas: 4,
    workers_per_replica: 2,
    threads_per_worker: 3,
    target_replica_concurrency: 5,
    max_replica_concurrency: 100,
    window: 120,
    downscale_stabilization_period: 600,
    upscale_stabilization_period: 30,
    max_downscale_factor: 0.25,
    max_upscale_factor: 3,
    downscale_tolerance: 0.2,
    upscale_tolerance: 0.3,
  };
  if (field.startsWith('autoscaling.')) {
    const key = field.slice('autoscaling.'.length) as keyof ResolvedApi['autoscaling'];
    assert.ok(key in autoscaling, `no test value for ${field}`);
    a.autoscaling[key] = autoscaling[key];
  } else {
    assert.ok(field in set, `no test value for ${field}`);
    set[field]();
  }
  return a;
}

async function checkTable(heading: string, exportApi: (api: ResolvedApi, dir: string) => ApiExport<unknown>, manifestRoot: string): Promise<void> {
  const rows = readTable(heading);
  const { api, dir } = await oneApi();
  assert.deepEqual(rows.map((r) => r.field).sort(), resolvedFields(api).sort(), `${heading}: one row per cortex.yaml field`);
  const view = (e: ApiExport<unknown>) => flatten({ ...(e.manifest as object), 'cortex_export.json': e.runtime });
  const base = view(exportApi(api, dir));
  // README path → flattened path: `cortex_export.json x` is the server's x; `applications[].x` is the application's x
  const toFlat = (p: string) => (p.startsWith('cortex_export.json ') ? `["cortex_export.json"].${p.slice('cortex_export.json '.length)}` : p.startsWith(manifestRoot) ? p.slice(manifestRoot.length) : p);
  for (const row of rows) {
    const changedExport = exportApi(perturb(api, row.field, dir), dir);
    const changed = changedPaths(base, view(changedExport));
    const paths = row.paths.map(toFlat);
    if (paths.length === 0) {
      assert.deepEqual(changed, [], `${heading}: ${row.field} is marked — but changes ${changed.join(', ')}`);
      assert.ok(
        changedExport.notes.some((n) => n.kind === 'dropped' && (n.field === row.field || row.field.startsWith(`${n.field}.`))),
        `${heading}: ${row.field} is marked — but EXPORT_NOTES.md does not list it as not carried over`,
      );
      continue;
    }
    for (const path of changed) assert.ok(paths.some((p) => under(path, p)), `${heading}: changing ${row.field} changes ${path}, which its row does not name`);
    for (const p of paths) assert.ok(changed.some((path) => under(path, p)), `${heading}: the row of ${row.field} names ${p}, which does not change with it (changed: ${changed.join(', ') || 'nothing'})`);
  }
}

test('README: the KServe mapping table is what src/export/kserve.ts does', () => checkTable('### KServe mapping', (api, dir) => inferenceService(api, dir, 'img'), ''));

test('README: the Ray Serve mapping table is what src/export/rayserve.ts does', () => checkTable('### Ray Serve mapping', (api, dir) => serveApplication(api, dir), 'applications[].'));
