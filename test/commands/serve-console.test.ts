// What serve prints, on a pipe and on a terminal: replica ready and drained
// lines from the pools' state events, the spinner while a model loads,
// timestamps and colours only on a terminal, none with NO_COLOR.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { ServeConsole } from '../../src/commands/serve-console.ts';
import type { ApiPool, ApiStatus } from '../../src/pool/api-pool.ts';

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'Date'], now: new Date(2026, 0, 1, 9, 30, 5).getTime() }));
afterEach(() => mock.timers.reset());

function status(replicas: [number, string][]): ApiStatus {
  return {
    name: 'iris',
    endpoint: '/iris',
    version: '1a2b3c4d',
    rollout: { state: 'live', new: { ready: 0, starting: 0, pending: 0, failed: 0, draining: 0 }, old: { ready: 0, starting: 0, pending: 0, failed: 0, draining: 0 }, old_versions: [], max_surge: 1, max_unavailable: 0, error: null },
    desired_replicas: replicas.length,
    replicas: { ready: 0, starting: 0, pending: 0, failed: 0, draining: 0 },
    in_flight: 0,
    queued: 0,
    capacity: 0,
    abandoned: { waiting: 0, executing: 0 },
    last_error: null,
    model_signature: null,
    detail: replicas.map(([id, state]) => ({ id, version: '1a2b3c4d', state: state as never, gpus: [], in_flight: 0, executing: 0, restarts: 0, workers: [] })),
  };
}

function setup(isTTY: boolean, env: NodeJS.ProcessEnv = {}) {
  let written = '';
  const out = {
    isTTY,
    write: (t: string) => {
      written += t;
      return true;
    },
    once: () => out,
  };
  const terminal = new ServeConsole(out, env, Date.now);
  const pool = new EventEmitter();
  terminal.watch([pool as unknown as ApiPool]);
  return { terminal, pool, text: () => written };
}

test('on a pipe: plain lines, replica ready with its load time, drained when it goes', () => {
  const { terminal, pool, text } = setup(false);
  pool.emit('state', status([[1, 'starting']]));
  mock.timers.tick(1500);
  terminal.output('iris/1/1', 'stdout', ['loading weights']);
  pool.emit('state', status([[1, 'ready']]));
  terminal.log('something failed', 'error');
  pool.emit('state', status([[1, 'draining']]));
  pool.emit('state', status([]));
  assert.equal(text(), [
    '[iris/1/1] loading weights',
    'replica iris/1 ready (loaded in 1.5s)',
    'something failed',
    'replica iris/1 drained and stopped',
    '',
  ].join('\n'));
});

test('on a terminal: times, colours, and a spinner line while a replica loads', () => {
  const { terminal, pool, text } = setup(true);
  pool.emit('state', status([[1, 'starting'], [2, 'starting']]));
  mock.timers.tick(300);
  assert.match(text(), /\r\x1b\[K\x1b\[33m⠙\x1b\[39m loading iris\/1 0\.0s, iris\/2 0\.0s/);
  assert.match(text(), /\r\x1b\[K\x1b\[33m.\x1b\[39m loading iris\/1 0\.3s, iris\/2 0\.3s$/);
  terminal.output('iris/1/1', 'stderr', ['warming up']);
  // The spinner is wiped, the line printed with its time, the spinner drawn again below it.
  assert.match(text(), /\r\x1b\[K\x1b\[2m09:30:05\x1b\[22m \x1b\[36m\[iris\/1\/1\]\x1b\[39m warming up\n\r\x1b\[K\x1b\[33m.\x1b\[39m loading /);
  pool.emit('state', status([[1, 'ready'], [2, 'starting']]));
  pool.emit('state', status([[1, 'ready'], [2, 'ready']]));
  // The last replica ready: the spinner is wiped and not drawn again.
  assert.match(text(), /\x1b\[33m.\x1b\[39m loading iris\/2 0\.3s\r\x1b\[K\x1b\[2m09:30:05\x1b\[22m \x1b\[32mreplica iris\/2 ready \(loaded in 0\.3s\)\x1b\[39m\n$/);
  const before = text().length;
  mock.timers.tick(1000);
  assert.equal(text().length, before, 'no spinner without a loading replica');
  terminal.log('bad', 'error');
  assert.match(text(), /\x1b\[31mbad\x1b\[39m\n$/);
});

test('NO_COLOR: a terminal keeps its times and spinner, without colours', () => {
  const { pool, text } = setup(true, { NO_COLOR: '1' });
  pool.emit('state', status([[1, 'starting']]));
  pool.emit('state', status([[1, 'ready']]));
  assert.doesNotMatch(text(), /\x1b\[\d+m/);
  assert.match(text(), /09:30:05 replica iris\/1 ready \(loaded in 0\.0s\)\n/);
});

test('a lagging reader: worker output is answered with a promise that resolves on drain, one for all callers', async () => {
  const drains: (() => void)[] = [];
  let full = true;
  const out = { isTTY: false, write: () => !full, once: (_event: 'drain', listener: () => void) => drains.push(listener) };
  const terminal = new ServeConsole(out, {}, Date.now);
  const first = terminal.output('iris/1/1', 'stdout', ['a', 'b']);
  const second = terminal.output('iris/1/2', 'stdout', ['c']);
  assert.ok(first instanceof Promise);
  assert.equal(second, first);
  assert.equal(drains.length, 1);
  full = false;
  drains[0]();
  await first;
  assert.equal(terminal.output('iris/1/1', 'stdout', ['d']), undefined);
});

test('once the server is shutting down, replicas drain without a line each', () => {
  const { terminal, pool, text } = setup(false);
  pool.emit('state', status([[1, 'ready'], [2, 'ready']]));
  pool.emit('state', status([[1, 'ready'], [2, 'draining']]));
  pool.emit('state', status([[1, 'ready']]));
  terminal.shuttingDown();
  pool.emit('state', status([[1, 'draining']]));
  pool.emit('state', status([]));
  assert.equal(text(), 'replica iris/1 ready\nreplica iris/2 ready\nreplica iris/2 drained and stopped\n');
});
