// serve --watch fires once a burst of file events is over, or after a
// ceiling when the events never stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Debouncer } from '../../src/reload/watch.ts';
import { FakeTimers } from '../helpers/fake-worker.ts';

function setup() {
  const timers = new FakeTimers();
  let fired = 0;
  const d = new Debouncer({ quietMs: 300, maxWaitMs: 2000, timers, fire: () => fired++ });
  return { d, timers, fired: () => fired };
}

test('a burst of events fires once, quietMs after the last', () => {
  const s = setup();
  s.d.poke();
  s.timers.advance(200);
  s.d.poke();
  s.timers.advance(200);
  s.d.poke();
  s.timers.advance(299);
  assert.equal(s.fired(), 0);
  s.timers.advance(1);
  assert.equal(s.fired(), 1);
  s.timers.advance(5000);
  assert.equal(s.fired(), 1, 'once');
  assert.deepEqual(s.timers.pending, []);
});

test('events that never stop fire at maxWaitMs after the first, then start over', () => {
  const s = setup();
  for (let t = 0; t < 2000; t += 100) {
    s.d.poke();
    s.timers.advance(100);
  }
  assert.equal(s.fired(), 1);
  s.d.poke();
  s.timers.advance(300);
  assert.equal(s.fired(), 2);
});

test('cancel: nothing fires', () => {
  const s = setup();
  s.d.poke();
  s.d.cancel();
  s.timers.advance(5000);
  assert.equal(s.fired(), 0);
});
