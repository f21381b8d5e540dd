// Go time.ParseDuration as Cortex reads `window` and the stabilization
// periods (spec/config.md §3 "Durations"): every form, exact nanoseconds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration, parseDurationNanos } from '../../src/config/duration.ts';

describe('parseDuration: valid forms', () => {
  const cases: [string, number][] = [
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['1m30s', 90],
    ['2m30s', 150],
    ['500ms', 0.5],
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['0s', 0],
    ['0m', 0],
    ['60s', 60],
    ['10s', 10],
    ['.5s', 0.5],
    ['5.s', 5],
    ['1.5s', 1.5],
    ['-1s', -1],
    ['+1s', 1],
    ['1h1m1s', 3661],
    ['100ns', 1e-7],
    ['1us', 1e-6],
    ['1\u00b5s', 1e-6], // micro sign
    ['1\u03bcs', 1e-6], // Greek mu
    ['1ns', 1e-9],
    ['10000ms', 10],
    ['1s500ms', 1.5],
    ['0.1h', 360],
  ];
  for (const [text, seconds] of cases) {
    test(`${text} = ${seconds}s`, () => assert.equal(parseDuration(text), seconds));
  }

  test('nanoseconds are exact', () => {
    assert.equal(parseDurationNanos('1h1m1s1ms1us1ns'), 3_661_001_001_001n);
    assert.equal(parseDurationNanos('1.000000001s'), 1_000_000_001n);
    assert.equal(parseDurationNanos('0.1s'), 100_000_000n);
    assert.equal(parseDurationNanos('1.5h'), 5_400_000_000_000n);
    assert.equal(parseDurationNanos('9.999999999s'), 9_999_999_999n);
    assert.equal(parseDurationNanos('-1m'), -60_000_000_000n);
  });

  test('the int64 range is the limit: 2^63-1 ns, and -2^63 ns as Go allows', () => {
    assert.equal(parseDurationNanos('9223372036854775807ns'), 2n ** 63n - 1n);
    assert.equal(parseDurationNanos('2562047h'), 2562047n * 3_600_000_000_000n);
    assert.equal(parseDurationNanos('-9223372036854775808ns'), -(2n ** 63n));
  });
});

describe('parseDuration: invalid forms', () => {
  const cases = [
    '1', // missing unit
    '10', // missing unit
    's',
    '.s',
    '-.s',
    '1x',
    '1S',
    '1sec',
    '1m1',
    '1.5.5s',
    '',
    '+',
    '-',
    '--1s',
    ' 1s',
    '1s ',
    '1 s',
    '1sm',
    '1mh',
    '00', // only the lone "0" is special
    '0.0',
    '9223372036854775808ns', // overflow
    '2562048h', // overflow
    '-9223372036854775809ns', // overflow
    '99999999999999999999h',
  ];
  for (const text of cases) {
    test(JSON.stringify(text), () => {
      assert.equal(parseDurationNanos(text), null);
      assert.equal(parseDuration(text), null);
    });
  }
});
