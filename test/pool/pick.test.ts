import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastLoaded } from '../../src/pool/pick.ts';

const load = (w: { load: number }) => w.load;
const ten = () => 10;

test('the least loaded worker, the first of equals', () => {
  const ws = [{ n: 'a', load: 2 }, { n: 'b', load: 1 }, { n: 'c', load: 1 }, { n: 'd', load: 3 }];
  assert.equal(leastLoaded(ws, load, ten)?.n, 'b');
});

test('an idle worker is taken at once, before any later one', () => {
  const ws = [{ n: 'a', load: 1 }, { n: 'b', load: 0 }, { n: 'c', load: 0 }];
  assert.equal(leastLoaded(ws, load, ten)?.n, 'b');
});

test('none under its limit, or none at all: null (the request waits in the API queue)', () => {
  const nine = () => 9;
  assert.equal(leastLoaded([{ load: 9 }, { load: 9 }], load, nine), null);
  assert.equal(leastLoaded([], load, nine), null);
  assert.deepEqual(leastLoaded([{ load: 9 }, { load: 8 }], load, nine), { load: 8 });
});

test('each worker has a limit of its own: a less loaded one at its limit is passed over', () => {
  const ws = [{ n: 'deep', load: 12, limit: 65 }, { n: 'new', load: 9, limit: 9 }];
  assert.equal(leastLoaded(ws, load, (w) => w.limit)?.n, 'deep');
});
