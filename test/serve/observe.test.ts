// /metrics and the status routes after known traffic, against a real server
// with real workers: every series the README lists, with its values.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { parseMetrics, type Scrape } from '../helpers/prometheus.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';

const dir = join(import.meta.dirname, '..', 'fixtures', 'observe');
const MAX_BODY = 2000;
let server: ServerProcess;
let scratch: string;

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await request(server.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a non-JSON answer stays text
  }
  return { status: res.statusCode, body: parsed };
}

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const res = await request(server.url + path, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

const status = async (api: string) => JSON.parse((await get(`/apis/${api}`)).text);
const scrape = async (): Promise<Scrape> => parseMetrics((await get('/metrics')).text);

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'observe-'));
  server = await startServer(dir, ['--max-body', String(MAX_BODY), '--enforce-mem', '--predict-timeout', '3s'], {
    waitForApis: ['iris', 'price', 'plain', 'hog'],
    env: { CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '20' },
  });
});

after(async () => {
  assert.equal(await server.stop(), 0);
  await rm(scratch, { recursive: true, force: true });
});

describe('after known traffic', () => {
  let m: Scrape;
  let held: { status: number; body: any }[];
  let blockedScrape: Scrape;
  let refusal: { status: number; body: any };

  before(async () => {
    for (const label of ['setosa', 'setosa', 'setosa', 2, 2]) assert.equal((await post('/iris', { answer: { label } })).status, 200);
    assert.equal((await post('/iris', { answer: { label: 1.5 } })).status, 200, 'a tracker miss never fails the request');
    assert.equal((await post('/iris', { answer: 'no object' })).status, 200);
    for (const v of [1, 2.5, 250]) assert.equal((await post('/price', { answer: v })).status, 200);
    assert.equal((await post('/plain', { raise: 'boom' })).status, 500);
    assert.equal((await post('/plain', '{')).status, 400);
    assert.equal((await post('/plain', { answer: 'x'.repeat(MAX_BODY) })).status, 413);
    assert.equal((await post('/plain', { exit: 3 })).status, 502);
    await eventually(async () => ((await status('plain')).replicas.ready === 1 ? true : undefined), 'plain ready again after its crash');
    assert.equal((await post('/plain', { wait_file: join(scratch, 'never') })).status, 504);
    assert.equal((await post('/hog', { hog: 200 })).status, 502);
    await eventually(async () => ((await status('broken')).status === 'error' ? true : undefined), 'broken to fail its __init__');
    refusal = await post('/broken', { answer: 1 });

    // 12 requests held (max_replica_concurrency 12): one runs, 8 wait in the
    // worker's pipe, 3 in the API's queue; the 13th is refused.
    const release = join(scratch, 'release');
    const holding = Array.from({ length: 12 }, () => post('/iris', { wait_file: release, answer: { label: 'slow' } }));
    await eventually(async () => ((await status('iris')).in_flight === 12 ? true : undefined), '12 requests in flight');
    blockedScrape = await scrape();
    assert.equal((await post('/iris', { answer: { label: 'refused' } })).status, 503);
    await writeFile(release, '');
    held = await Promise.all(holding);

    await eventually(async () => {
      const [plain, hog] = [await status('plain'), await status('hog')];
      return plain.replicas.ready === 1 && hog.replicas.ready === 1 ? true : undefined;
    }, 'plain and hog ready again after their restarts');
    await eventually(async () => ((await status('iris')).autoscaler !== null ? true : undefined), 'a first autoscaler tick');
    m = await scrape();
  });

  test('serve says when each replica is ready, and how long its model took to load', async () => {
    for (const api of ['iris', 'price', 'plain', 'hog']) await server.waitFor(new RegExp(`^replica ${api}/1 ready \\(loaded in \\d+\\.\\d+s\\)$`));
  });

  test('the held requests were answered in order, the 503 said why', () => {
    assert.deepEqual(held.map((h) => h.status), Array(12).fill(200));
    assert.equal(refusal.status, 503);
    assert.equal(refusal.body.code, 'CORTEX_LOCAL_WORKER_INIT_FAILED');
  });

  test('requests by status code', () => {
    assert.equal(m.types.get('cortex_local_requests_total'), 'counter');
    assert.equal(m.value('cortex_local_requests_total', { api: 'iris', code: '200' }), 7 + 12);
    assert.equal(m.value('cortex_local_requests_total', { api: 'iris', code: '503' }), 1);
    assert.equal(m.value('cortex_local_requests_total', { api: 'price', code: '200' }), 3);
    for (const code of ['500', '400', '413', '502', '504']) assert.equal(m.value('cortex_local_requests_total', { api: 'plain', code }), 1, code);
    assert.equal(m.value('cortex_local_requests_total', { api: 'hog', code: '502' }), 1);
    assert.equal(m.value('cortex_local_requests_total', { api: 'broken', code: '503' }), 1);
  });

  test('refusals by reason', () => {
    const r = (api: string, reason: string) => m.value('cortex_local_refusals_total', { api, reason });
    assert.equal(r('iris', 'capacity'), 1);
    assert.equal(r('broken', 'init_failed'), 1);
    assert.equal(r('plain', 'body_too_large'), 1);
    assert.equal(r('plain', 'timeout'), 1);
    for (const reason of ['no_ready_replica', 'shutting_down', 'queued_bytes', 'body_timeout', 'timeout']) assert.equal(r('iris', reason), 0, reason);
    assert.equal(m.all('cortex_local_refusals_total').length, 5 * 8, 'every API has every reason');
  });

  test('latency: admission to answer, queue wait, predict time', () => {
    for (const name of ['cortex_local_request_duration_seconds', 'cortex_local_queue_wait_seconds', 'cortex_local_predict_duration_seconds']) {
      assert.equal(m.types.get(name), 'histogram', name);
    }
    // 413 never reached a worker; 502 and 504 reached one but got no answer from it.
    assert.equal(m.value('cortex_local_request_duration_seconds_count', { api: 'iris' }), 19);
    assert.equal(m.value('cortex_local_request_duration_seconds_count', { api: 'plain' }), 4);
    assert.equal(m.value('cortex_local_queue_wait_seconds_count', { api: 'iris' }), 19);
    assert.equal(m.value('cortex_local_predict_duration_seconds_count', { api: 'iris' }), 19);
    assert.equal(m.value('cortex_local_predict_duration_seconds_count', { api: 'plain' }), 2);
    // Three held requests waited in the API's queue until the release.
    assert.ok(m.value('cortex_local_queue_wait_seconds_sum', { api: 'iris' }) > 0);
    const buckets = m.all('cortex_local_request_duration_seconds_bucket', { api: 'iris' });
    assert.equal(buckets.at(-1)?.labels.le, '+Inf');
    assert.equal(buckets.at(-1)?.value, 19);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'cumulative buckets');
    const sum = m.value('cortex_local_request_duration_seconds_sum', { api: 'iris' });
    assert.ok(sum >= m.value('cortex_local_predict_duration_seconds_sum', { api: 'iris' }));
  });

  test('in flight, queue length and capacity, while requests are held and after', () => {
    assert.equal(blockedScrape.value('cortex_local_in_flight_requests', { api: 'iris' }), 12);
    assert.equal(blockedScrape.value('cortex_local_queued_requests', { api: 'iris' }), 3);
    assert.equal(blockedScrape.value('cortex_local_capacity_requests', { api: 'iris' }), 12);
    const heldBody = JSON.stringify({ wait_file: join(scratch, 'release'), answer: { label: 'slow' } }).length;
    assert.equal(blockedScrape.value('cortex_local_queued_body_bytes'), 12 * heldBody);
    assert.equal(m.value('cortex_local_queued_body_bytes'), 0);
    assert.equal(m.value('cortex_local_in_flight_requests', { api: 'iris' }), 0);
    assert.equal(m.value('cortex_local_queued_requests', { api: 'iris' }), 0);
    assert.equal(m.value('cortex_local_capacity_requests', { api: 'price' }), 1024);
    assert.equal(m.value('cortex_local_capacity_requests', { api: 'broken' }), 0);
  });

  test('replicas by state, and the desired count apart', () => {
    for (const state of ['ready', 'starting', 'pending', 'failed', 'draining']) {
      assert.equal(m.value('cortex_local_replicas', { api: 'iris', state }), state === 'ready' ? 1 : 0, state);
    }
    assert.equal(m.all('cortex_local_replicas', { state: 'desired' }).length, 0);
    assert.equal(m.value('cortex_local_desired_replicas', { api: 'iris' }), 1);
    assert.equal(m.value('cortex_local_replicas', { api: 'broken', state: 'ready' }), 0);
    assert.equal(m.value('cortex_local_desired_replicas', { api: 'broken' }), 1);
  });

  test('worker restarts by reason, worker memory, model load time', () => {
    const restarts = (api: string, reason: string) => m.value('cortex_local_worker_restarts_total', { api, reason });
    assert.equal(restarts('plain', 'crash'), 1);
    assert.equal(restarts('plain', 'timeout'), 1);
    assert.equal(restarts('hog', 'memory'), 1);
    assert.ok(restarts('broken', 'init_failure') >= 1);
    assert.equal(restarts('iris', 'crash') + restarts('iris', 'memory') + restarts('iris', 'timeout') + restarts('iris', 'init_failure'), 0);
    const rss = m.value('cortex_local_worker_memory_bytes', { api: 'iris', replica: '1', worker: '1' });
    assert.ok(rss > 1e6 && rss < 1e9, `rss ${rss}`);
    assert.equal(m.value('cortex_local_model_load_duration_seconds_count', { api: 'iris' }), 1);
    assert.equal(m.value('cortex_local_model_load_duration_seconds_count', { api: 'plain' }), 3, 'loaded again after the crash and after the timeout');
    assert.equal(m.value('cortex_local_model_load_duration_seconds_count', { api: 'broken' }), 0);
    assert.ok(m.value('cortex_local_model_load_duration_seconds_sum', { api: 'iris' }) > 0);
  });

  test('the autoscaler: its last average, recommendation and requested count', () => {
    assert.equal(m.value('cortex_local_autoscaler_desired_replicas', { api: 'iris' }), 1);
    assert.equal(m.value('cortex_local_autoscaler_recommended_replicas', { api: 'iris' }), 1);
    assert.ok(m.value('cortex_local_autoscaler_average_in_flight', { api: 'iris' }) >= 0);
    assert.equal(m.all('cortex_local_autoscaler_decisions_total').length, 0, 'max_replicas 1: no decision changed a count');
  });

  test('the tracker: classes and misses, regression values', () => {
    const cls = (label: string) => m.value('cortex_local_tracker_predictions_total', { api: 'iris', class: label });
    assert.equal(cls('setosa'), 3);
    assert.equal(cls('2'), 2);
    assert.equal(cls('slow'), 12);
    assert.equal(m.value('cortex_local_tracker_misses_total', { api: 'iris' }), 2);
    assert.equal(m.value('cortex_local_tracker_misses_total', { api: 'price' }), 0);
    assert.equal(m.all('cortex_local_tracker_misses_total', { api: 'plain' }).length, 0, 'no tracker, no series');
    assert.equal(m.types.get('cortex_local_tracker_value'), 'histogram');
    assert.equal(m.value('cortex_local_tracker_value_count', { api: 'price' }), 3);
    assert.equal(m.value('cortex_local_tracker_value_sum', { api: 'price' }), 253.5);
    assert.equal(m.value('cortex_local_tracker_value_bucket', { api: 'price', le: '1' }), 1);
    assert.equal(m.value('cortex_local_tracker_value_bucket', { api: 'price', le: '10' }), 2);
    assert.equal(m.value('cortex_local_tracker_value_bucket', { api: 'price', le: '1000' }), 3);
    assert.equal(m.value('cortex_local_tracker_value_bucket', { api: 'price', le: '+Inf' }), 3);
    assert.equal(m.value('cortex_local_tracker_value_min', { api: 'price' }), 1);
    assert.equal(m.value('cortex_local_tracker_value_max', { api: 'price' }), 250);
  });

  test('the Node process', () => {
    assert.ok(m.value('process_resident_memory_bytes') > 1e6);
    assert.ok(m.value('process_cpu_seconds_total') > 0);
    assert.ok(m.all('nodejs_eventloop_lag_seconds').length === 1);
    assert.ok(m.all('nodejs_heap_size_used_bytes').length === 1);
  });

  test('GET /apis/NAME: the last minute, restarts, tracker and each worker', async () => {
    const iris = await status('iris');
    assert.equal(iris.requests.codes['2xx'], 19);
    assert.equal(iris.requests.codes['5xx'], 1);
    assert.ok(iris.requests.p50_ms > 0 && iris.requests.p99_ms >= iris.requests.p50_ms);
    assert.equal(iris.tracker.model_type, 'classification');
    assert.deepEqual(iris.tracker.classes.slice(0, 3), [{ class: 'slow', count: 12 }, { class: 'setosa', count: 3 }, { class: '2', count: 2 }]);
    assert.equal(iris.tracker.misses, 2);
    assert.match(iris.tracker.last_miss, /^failed to track key 'label': expected the prediction to be an object but found str$/);
    assert.equal(iris.detail[0].workers[0].pid > 0, true);
    assert.ok(iris.detail[0].workers[0].memory_bytes > 1e6);
    assert.equal(iris.autoscaler.request, 1);
    const price = await status('price');
    assert.equal(price.tracker.min, 1);
    assert.equal(price.tracker.max, 250);
    assert.equal(price.tracker.mean, 253.5 / 3);
    const plain = await status('plain');
    assert.deepEqual(plain.restarts, { crash: 1, memory: 0, timeout: 1, init_failure: 0 });
    assert.equal(plain.tracker, null);
    assert.match(plain.last_error, /--predict-timeout/);
    assert.equal((await status('hog')).restarts.memory, 1);
  });

  test('GET /apis/NAME/logs: worker output and the server\'s lines about the API, errors marked', async () => {
    assert.equal((await post('/plain', { say: 'hello from plain', answer: 1 })).status, 200);
    const logs = await eventually(async () => {
      const l = JSON.parse((await get('/apis/plain/logs')).text);
      return l.lines.some((x: any) => x.text === 'to stderr: hello from plain') ? l : undefined;
    }, 'the printed lines in the ring');
    const said = logs.lines.find((x: any) => x.text === 'hello from plain');
    assert.equal(said.stream, 'stdout');
    assert.match(said.source, /^plain\/\d+\/1$/);
    const failed = logs.lines.find((x: any) => /failed in predict\(\)/.test(x.text));
    assert.equal(failed.level, 'error');
    assert.match(failed.text, /ValueError: boom/);
    assert.ok(logs.lines.some((x: any) => x.level === 'error' && /worker exited with code 3; 1 request\(s\) failed; restarting/.test(x.text)));
    assert.ok(logs.lines.some((x: any) => /ran longer than --predict-timeout \(3s\); restarting the worker/.test(x.text)));
    const after = JSON.parse((await get(`/apis/plain/logs?after=${logs.last - 1}`)).text);
    assert.deepEqual(after.lines.map((x: any) => x.seq), [logs.last]);
    assert.equal(JSON.parse((await get('/apis/plain/logs?limit=2')).text).lines.length, 2);
  });
});

describe('routes', () => {
  test('GET / is the dashboard for a browser, JSON for anyone else', async () => {
    const page = await get('/', { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.match(page.text, /^<!doctype html>/);
    // Nothing is fetched from elsewhere: no src=, href= or url() pointing at another origin.
    assert.doesNotMatch(page.text, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(page.text, /url\(/i);
    const json = await get('/');
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(json.text).apis.map((a: any) => a.api), ['iris', 'price', 'plain', 'hog', 'broken']);
  });

  test('GET /apis?series=1 adds the dashboard\'s history', async () => {
    const { apis } = JSON.parse((await get('/apis?series=1')).text);
    assert.equal(apis[0].series.length, 120);
    assert.ok(apis[0].series.some((p: any) => p.rate > 0));
    assert.ok(Array.isArray(apis[0].ticks) && apis[0].ticks.length > 0);
    assert.ok(apis.find((a: any) => a.api === 'plain').errors.length >= 2);
    assert.equal(JSON.parse((await get('/apis')).text).apis[0].series, undefined);
  });

  test('GET /apis/NAME/autoscaler: the config and the last ticks, each with its values', async () => {
    const view = JSON.parse((await get('/apis/price/autoscaler')).text);
    assert.equal(view.api, 'price');
    assert.equal(view.autoscaling.max_replicas, 1);
    assert.equal(view.desired_replicas, 1);
    assert.ok(view.ticks.length >= 1 && view.ticks.length <= 60);
    const tick = view.ticks.at(-1);
    assert.equal(tick.t % 10, 0);
    assert.equal(tick.raw, tick.avg_in_flight, 'target_replica_concurrency 1');
    assert.equal(tick.raw_recommendation, Math.ceil(tick.raw));
    assert.equal(tick.recommendation, 1, 'max_replicas 1');
    assert.equal(tick.request, 1);
    assert.equal(tick.samples > 0, true);
  });

  test('unknown API or view: 404 naming what exists', async () => {
    const r = await get('/apis/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.text), { error: 'no API named "nope"', apis: ['iris', 'price', 'plain', 'hog', 'broken'] });
    assert.equal((await get('/apis/iris/nothing')).status, 404);
    assert.equal((await get('/apis/iris/autoscaler/more')).status, 404);
  });
});
