import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastLoaded } from '../../src/pool/pick.ts';

const load = (w: { load: number }) => w.load;

test('the least loaded worker, the first of equals', () => {
  const ws = [{ n: 'a', load: 2 }, { n: 'b', load: 1 }, { n: 'c', load: 1 }, { n: 'd', load: 3 }];
  assert.equal(leastLoaded(ws, load, 10)?.n, 'b');
});

test('an idle worker is taken at once, before any later one', () => {
  const ws = [{ n: 'a', load: 1 }, { n: 'b', load: 0 }, { n: 'c', load: 0 }];
  assert.equal(leastLoaded(ws, load, 10)?.n, 'b');
});

test('none under the limit, or none at all: null (the request waits in the API queue)', () => {
  assert.equal(leastLoaded([{ load: 9 }, { load: 9 }], load, 9), null);
  assert.equal(leastLoaded([], load, 9), null);
  assert.deepEqual(leastLoaded([{ load: 9 }, { load: 8 }], load, 9), { load: 8 });
});
