// The tracker against Cortex 0.15's Tracker.extract_predicted_value: what
// counts for each model type, what is a miss (and its message), the bound
// on classes, and the regression statistics.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractTracked, MAX_CLASSES, OTHER_CLASS, REGRESSION_BUCKETS, Tracker, type ClassificationStats, type RegressionStats } from '../../src/metrics/tracker.ts';

const classification = (key: string | null = null) => ({ key, model_type: 'classification' as const });
const regression = (key: string | null = null) => ({ key, model_type: 'regression' as const });

describe('classification: a str or an int', () => {
  test('the whole prediction, without key', () => {
    assert.deepEqual(extractTracked(classification(), '"setosa"'), { ok: true, value: 'setosa' });
    assert.deepEqual(extractTracked(classification(), ' 7\n'), { ok: true, value: '7' });
    assert.deepEqual(extractTracked(classification(), '-0'), { ok: true, value: '0' });
    // Python's int has no size limit, and str() prints every digit.
    assert.deepEqual(extractTracked(classification(), '12345678901234567890123'), { ok: true, value: '12345678901234567890123' });
  });

  test('the value under key', () => {
    assert.deepEqual(extractTracked(classification('label'), '{"label": "virginica", "p": 0.9}'), { ok: true, value: 'virginica' });
    assert.deepEqual(extractTracked(classification('label'), '{"label": 2}'), { ok: true, value: '2' });
  });

  test('a nested member of the same name is not the key', () => {
    assert.deepEqual(extractTracked(classification('label'), '{"label": 1, "meta": {"label": 2.5}}'), { ok: true, value: '1' });
    assert.equal(extractTracked(classification('label'), '{"meta": {"label": 2}, "label": 1.0}').ok, false);
  });

  test('a float, a bool, a list or an object is a miss, named as Python names it', () => {
    const m = (json: string) => {
      const v = extractTracked(classification(), json);
      assert.equal(v.ok, false);
      return (v as { miss: string }).miss;
    };
    assert.equal(m('1.0'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'float'");
    assert.equal(m('1e3'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'float'");
    assert.equal(m('true'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'bool'");
    assert.equal(m('[1]'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'list'");
    assert.equal(m('{"label": 1}'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'dict'");
    assert.equal(m('null'), "failed to track classification prediction: expected type 'str' or 'int' but encountered 'NoneType'");
  });

  test('with key: not an object, no such key, or a null value is a miss', () => {
    assert.deepEqual(extractTracked(classification('label'), '"setosa"'), { ok: false, miss: "failed to track key 'label': expected the prediction to be an object but found str" });
    assert.deepEqual(extractTracked(classification('label'), '[1, 2]'), { ok: false, miss: "failed to track key 'label': expected the prediction to be an object but found list" });
    assert.deepEqual(extractTracked(classification('label'), '{"class": 1}'), { ok: false, miss: "failed to track key 'label': not found in prediction" });
    assert.deepEqual(extractTracked(classification('label'), '{"label": null}'), { ok: false, miss: "failed to track key 'label': not found in prediction" });
  });

  test('a bytes prediction is a miss', () => {
    assert.deepEqual(extractTracked(classification(), null), { ok: false, miss: "failed to track classification prediction: expected type 'str' or 'int' but encountered 'bytes'" });
    assert.deepEqual(extractTracked(classification('label'), null), { ok: false, miss: "failed to track key 'label': expected the prediction to be an object but found bytes" });
  });
});

describe('regression: an int or a float', () => {
  test('numbers count, anything else is a miss', () => {
    assert.deepEqual(extractTracked(regression(), '3.25'), { ok: true, value: 3.25 });
    assert.deepEqual(extractTracked(regression(), '-4'), { ok: true, value: -4 });
    assert.deepEqual(extractTracked(regression('price'), '{"price": 1e2}'), { ok: true, value: 100 });
    assert.deepEqual(extractTracked(regression(), '"3.5"'), { ok: false, miss: "failed to track regression prediction: expected type 'float' or 'int' but encountered 'str'" });
    assert.deepEqual(extractTracked(regression(), 'false'), { ok: false, miss: "failed to track regression prediction: expected type 'float' or 'int' but encountered 'bool'" });
    assert.deepEqual(extractTracked(regression(), null), { ok: false, miss: "failed to track regression prediction: expected type 'float' or 'int' but encountered 'bytes'" });
  });
});

describe('Tracker', () => {
  test('counts classes, highest first, and remembers the last miss', () => {
    const t = new Tracker(classification('label'));
    for (const c of ['b', 'a', 'b', 'c', 'b', 'a']) t.observe(JSON.stringify({ label: c }));
    t.observe('{"other": 1}');
    const s = t.stats() as ClassificationStats;
    assert.equal(s.tracked, 6);
    assert.equal(s.misses, 1);
    assert.equal(s.last_miss, "failed to track key 'label': not found in prediction");
    assert.deepEqual(s.classes, [{ class: 'b', count: 3 }, { class: 'a', count: 2 }, { class: 'c', count: 1 }]);
  });

  test(`keeps ${MAX_CLASSES} classes by name; later new ones count as "${OTHER_CLASS}"`, () => {
    const t = new Tracker(classification());
    for (let i = 0; i < MAX_CLASSES + 25; i++) t.observe(String(i));
    t.observe('0');
    t.observe(String(MAX_CLASSES + 3));
    const s = t.stats() as ClassificationStats;
    assert.equal(s.classes.length, MAX_CLASSES + 1);
    assert.deepEqual(s.classes.find((c) => c.class === OTHER_CLASS), { class: OTHER_CLASS, count: 26 });
    assert.deepEqual(s.classes.find((c) => c.class === '0'), { class: '0', count: 2 });
    assert.equal(s.tracked, MAX_CLASSES + 27);
  });

  test('a class of the model\'s own named "other" shares the overflow\'s row', () => {
    const t = new Tracker(classification());
    t.observe(`"${OTHER_CLASS}"`);
    for (let i = 1; i < MAX_CLASSES; i++) t.observe(String(i));
    t.observe('"one too many"');
    const s = t.stats() as ClassificationStats;
    assert.equal(s.classes.length, MAX_CLASSES);
    assert.deepEqual(s.classes[0], { class: OTHER_CLASS, count: 2 });
  });

  test('regression: min, max, mean and a histogram over decades', () => {
    const t = new Tracker(regression());
    for (const v of [0.5, 2, 2, 150, -3, 0]) t.observe(String(v));
    t.observe('"x"');
    const s = t.stats() as RegressionStats;
    assert.equal(s.tracked, 6);
    assert.equal(s.misses, 1);
    assert.equal(s.min, -3);
    assert.equal(s.max, 150);
    assert.equal(s.mean, (0.5 + 2 + 2 + 150 - 3 + 0) / 6);
    assert.equal(s.sum, 151.5);
    const count = (le: number | '+Inf') => s.histogram.find((h) => h.le === le)?.count;
    assert.equal(count(-1), 1); // -3 ≤ -1
    assert.equal(count(0), 1); // 0
    assert.equal(count(1), 1); // 0.5
    assert.equal(count(10), 2); // 2, 2
    assert.equal(count(1000), 1); // 150
    assert.equal(s.histogram.length, REGRESSION_BUCKETS.length + 1);
    assert.equal(s.histogram.reduce((n, h) => n + h.count, 0), 6);
  });

  test('regression without any value: no min, max or mean', () => {
    const s = new Tracker(regression()).stats() as RegressionStats;
    assert.deepEqual([s.min, s.max, s.mean, s.tracked], [null, null, null, 0]);
  });
});
