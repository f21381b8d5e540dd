// `cortex-local simulate` as a user runs it: the spec's worked examples
// (../shared/spec/autoscaler.md §6) with their exact counts, the human
// output, and every kind of bad input with its exit code and message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'simulate');
const bin = join(root, 'bin', 'cortex-local');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, ['simulate', ...args], { cwd: fixtures });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface JsonDecision {
  t: number;
  avg_in_flight: number | null;
  recommendation: number | null;
  replicas: number;
}

async function decisions(fixture: string): Promise<JsonDecision[]> {
  const r = await run(fixture, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as { decisions: JsonDecision[] };
  assert.deepEqual(Object.keys(out), ['decisions']);
  for (const d of out.decisions) assert.deepEqual(Object.keys(d), ['t', 'avg_in_flight', 'recommendation', 'replicas']);
  return out.decisions;
}

describe('worked examples (--json)', () => {
  test('A: scale-up', async () => {
    const d = await decisions('example-a.json');
    assert.deepEqual(d, [
      { t: 10, avg_in_flight: 0, recommendation: 1, replicas: 1 },
      { t: 20, avg_in_flight: 0, recommendation: 1, replicas: 1 },
      { t: 30, avg_in_flight: 0.4, recommendation: 1, replicas: 1 },
      { t: 40, avg_in_flight: 3.3, recommendation: 4, replicas: 4 },
      { t: 50, avg_in_flight: 5.04, recommendation: 6, replicas: 6 },
      { t: 60, avg_in_flight: 6.2, recommendation: 6, replicas: 6 },
      { t: 70, avg_in_flight: 8.2, recommendation: 9, replicas: 9 },
      { t: 80, avg_in_flight: 10.2, recommendation: 11, replicas: 11 },
      { t: 90, avg_in_flight: 12, recommendation: 11, replicas: 11 },
    ]);
  });

  test('B: downscale stabilization', async () => {
    const d = await decisions('example-b.json');
    assert.deepEqual(d.map((x) => x.t), Array.from({ length: 100 }, (_, i) => 10 * (i + 1)));
    const replicas = (from: number, to: number) => d.filter((x) => x.t >= from && x.t <= to).map((x) => x.replicas);
    assert.deepEqual(replicas(10, 650), Array(65).fill(8));
    assert.deepEqual(replicas(660, 680), [7, 6, 4]);
    assert.deepEqual(replicas(690, 960), Array(28).fill(4));
    assert.deepEqual(replicas(970, 1000), [3, 2, 2, 2]);
    const at = (t: number) => d[t / 10 - 1];
    assert.deepEqual(
      [360, 370, 390].map((t) => [at(t).avg_in_flight?.toFixed(3), at(t).recommendation]),
      [['7.867', 8], ['6.533', 7], ['3.867', 4]],
    );
    assert.deepEqual(
      [650, 660, 670, 680, 690, 960, 970, 980, 990, 1000].map((t) => at(t).recommendation),
      [4, 4, 4, 3, 2, 2, 2, 2, 1, 1],
    );
  });

  test('C: upscale stabilization and the first period', async () => {
    const d = await decisions('example-c.json');
    assert.deepEqual(d.map((x) => x.t), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    assert.deepEqual(d.map((x) => x.avg_in_flight), [6.2, 9, 9, 9, 6.6, 5, 14, 20, 20, 20, 20, 20]);
    assert.deepEqual(d.map((x) => x.recommendation), [4, 4, 4, 8, 7, 5, 10, 10, 10, 20, 20, 20]);
    assert.deepEqual(d.map((x) => x.replicas), [2, 2, 4, 4, 4, 5, 5, 5, 10, 10, 10, 20]);
  });
});

test('initial_replicas is clamped to max_replicas; a point at t = 1.5 takes effect at second 2; tick 1', async () => {
  assert.deepEqual(await decisions('clamp-and-fractional.json'), [
    { t: 1, avg_in_flight: 0, recommendation: 1, replicas: 1 },
    { t: 2, avg_in_flight: 2.5, recommendation: 3, replicas: 3 },
    { t: 3, avg_in_flight: 10 / 3, recommendation: 3, replicas: 3 },
    { t: 4, avg_in_flight: 3.75, recommendation: 3, replicas: 3 },
  ]);
});

test('human output: a compact table (quiet stretches collapse, changes stand alone) and a sparkline', async () => {
  const r = await run('example-b.json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^t \(s\)\s+avg in flight\s+recommendation\s+replicas\s+reason$/);
  assert.ok(lines.some((l) => /^10\s+8\s+8\s+1->8\s+8 in flight \/ target 1$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^20\.\.350\s+8\s+8\s+8\s/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^420\.\.650\s+0\s+4\s+8\s+downscale stabilization$/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^660\s+0\s+4\s+8->7\s+downscale stabilization$/.test(l)), r.stdout);
  assert.ok(lines.length < 25, 'compact');
  assert.equal(lines.at(-2), 'replicas after each of 100 ticks, t=10..1000s (initial 1, lowest 2, highest 8, final 2):');
  const spark = lines.at(-1) as string;
  assert.equal(spark.length, 100);
  assert.match(spark, /^[ -~]+$/, 'plain ASCII');
  assert.equal(spark, '@'.repeat(65) + spark.slice(65));
  assert.ok(spark.endsWith('___'));
});

describe('bad input', () => {
  const cases: [string, number, RegExp][] = [
    ['bad-unknown-key.json', 1, /^cortex-local: bad-unknown-key\.json: key "tik" is not supported \(did you mean "tick"\?\)$/],
    ['bad-unknown-autoscaling-key.json', 1, /: autoscaling\.max_replica: key "max_replica" is not supported \(did you mean "max_replicas"\?\)$/],
    ['bad-negative-time.json', 1, /: in_flight\[1\]: time must be ≥ 0 \(got -5\)$/],
    ['bad-unsorted.json', 1, /: in_flight\[2\]: times must not decrease \(20 comes after 30\)$/],
    ['bad-negative-value.json', 1, /: in_flight\[0\]: in-flight value must be ≥ 0 \(got -2\)$/],
    ['bad-autoscaling.json', 1, /^(?=.*autoscaling\.min_replicas: must be ≤ max_replicas)(?=.*autoscaling\.window: must be a whole multiple of 10s)/],
    ['bad-duration-type.json', 1, /: autoscaling\.window: must be a duration string/],
    ['bad-json.json', 1, /^cortex-local: bad-json\.json: not valid JSON: /],
    ['bad-no-duration.json', 1, /: duration: is required/],
    ['missing.json', 2, /^cortex-local: cannot read trace missing\.json: no such file$/],
  ];
  for (const [fixture, code, message] of cases) {
    test(`${fixture} → exit ${code}`, async () => {
      const r = await run(fixture);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, 'one line');
      assert.match(lines[0], message);
    });
  }

  test('usage errors → exit 2', async () => {
    const none = await run();
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^cortex-local: simulate takes one TRACE\.json \(got 0\)/);
    const unknown = await run('example-a.json', '--bogus');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^cortex-local: simulate: unknown option --bogus; 'cortex-local simulate --help' lists the options$/m);
  });
});
