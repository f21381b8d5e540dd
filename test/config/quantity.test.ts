// Kubernetes quantities (spec/config.md §3 "Quantities"): every form, exact
// values, and the boundaries compared exactly (a float could flip 20m vs 0.02).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseQuantity, quantityAtLeast, quantityCeil, quantityToNumber } from '../../src/config/quantity.ts';

function q(text: string) {
  const v = parseQuantity(text);
  assert.notEqual(v, null, `${JSON.stringify(text)} should parse`);
  return v!;
}

describe('parseQuantity: valid forms', () => {
  const cases: [string, number][] = [
    ['200m', 0.2],
    ['1500m', 1.5],
    ['0.5', 0.5],
    ['2', 2],
    ['12', 12],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['+1', 1],
    ['-1', -1],
    ['0', 0],
    ['1n', 1e-9],
    ['1u', 1e-6],
    ['1m', 0.001],
    ['1k', 1000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1Ki', 1024],
    ['1Mi', 2 ** 20],
    ['512Mi', 536870912],
    ['1Gi', 1073741824],
    ['2Gi', 2147483648],
    ['1.5Gi', 1610612736],
    ['1Ti', 2 ** 40],
    ['1Pi', 2 ** 50],
    ['1Ei', 2 ** 60],
    ['1e9', 1e9],
    ['1E9', 1e9],
    ['129e6', 129000000],
    ['1e+3', 1000],
    ['1e-3', 0.001],
    ['1.5e3', 1500],
    ['20Mi', 20971520],
    ['20M', 20000000],
  ];
  for (const [text, value] of cases) {
    test(`${text} = ${value}`, () => assert.equal(quantityToNumber(q(text)), value));
  }

  test('byte counts are exact integers, rounded up', () => {
    assert.equal(quantityCeil(q('1Gi')), 1073741824);
    assert.equal(quantityCeil(q('512Mi')), 536870912);
    assert.equal(quantityCeil(q('1G')), 1000000000);
    assert.equal(quantityCeil(q('1.5Gi')), 1610612736);
    assert.equal(quantityCeil(q('129e6')), 129000000);
    assert.equal(quantityCeil(q('1E')), 1e18);
    assert.equal(quantityCeil(q('0.5')), 1);
    assert.equal(quantityCeil(q('1500m')), 2);
    assert.equal(quantityCeil(q('1.0000001Ki')), 1025);
  });
});

describe('parseQuantity: invalid forms', () => {
  for (const text of ['', ' ', 'K', '1K', '1KiB', '1Kb', '1mi', '1MB', 'abc', '1.2.3', '1e', '1e1.5', '1 ', ' 1', '1 Gi', '--1', '+-1', 'Gi', '1Gi1', '0x10', '1,5', '1_000']) {
    test(JSON.stringify(text), () => assert.equal(parseQuantity(text), null));
  }
});

describe('quantityAtLeast: exact comparison', () => {
  test('cpu: 20m is the minimum, 19m and 0.019 are below it', () => {
    const min = q('20m');
    assert.equal(quantityAtLeast(q('20m'), min), true);
    assert.equal(quantityAtLeast(q('0.02'), min), true);
    assert.equal(quantityAtLeast(q('2e-2'), min), true);
    assert.equal(quantityAtLeast(q('20000000n'), min), true);
    assert.equal(quantityAtLeast(q('19m'), min), false);
    assert.equal(quantityAtLeast(q('0.019'), min), false);
    assert.equal(quantityAtLeast(q('19999999n'), min), false);
  });
  test('mem: 20Mi is the minimum, 20M is below it', () => {
    const min = q('20Mi');
    assert.equal(quantityAtLeast(q('20Mi'), min), true);
    assert.equal(quantityAtLeast(q('20971520'), min), true);
    assert.equal(quantityAtLeast(q('20480Ki'), min), true);
    assert.equal(quantityAtLeast(q('20971519'), min), false);
    assert.equal(quantityAtLeast(q('20M'), min), false);
  });
  test('decimal fractions compare exactly (0.3 = 300m, no float rounding)', () => {
    assert.equal(quantityAtLeast(q('0.3'), q('300m')), true);
    assert.equal(quantityAtLeast(q('300m'), q('0.3')), true);
    assert.equal(quantityAtLeast(q('0.1'), q('100000001n')), false);
  });
});
