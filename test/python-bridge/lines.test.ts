// A worker's output cut into log lines: \n and \r\n end lines, a lone \r
// ends a redraw (logged at most once per second), a line is bounded, and the
// cost is linear in the output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../src/python-bridge/lines.ts';

/** Every redraw logged: the clock moves a second per chunk and redraws may come 0 ms apart. */
function split(chunks: string[], max?: number): string[] {
  const s = new LineSplitter({ max, redrawMs: 0 });
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

test('\\n, \\r\\n and a lone \\r each end a line; a \\r that ends nothing adds no line', () => {
  assert.deepEqual(split(['a\nb\r\nc\rd\n\ne']), ['a', 'b', 'c', 'd', '', 'e']);
  assert.deepEqual(split(['a\r\n\r\nb\n']), ['a', '', 'b']);
  assert.deepEqual(split(['\r 10%\r 50%\r100%\n']), [' 10%', ' 50%', '100%']);
});

test('redraws are logged at most once per redrawMs, the state a newline ends always; a \\r closing a chunk is decided by the next', () => {
  let now = 0;
  const s = new LineSplitter({ redrawMs: 1000, clock: () => now });
  assert.deepEqual(s.push('epoch 1\n\r 10%\r 20%\r 30%'), ['epoch 1', ' 10%']);
  now = 999;
  assert.deepEqual(s.push('\r 40%\r 50%\r'), []);
  now = 1000;
  // The \r that ended the last chunk closed a redraw: " 50%" is logged now.
  assert.deepEqual(s.push(' 60%\r 70%'), [' 50%']);
  now = 1500;
  assert.deepEqual(s.push('\r100%\n'), ['100%']);
  now = 1600;
  assert.deepEqual(s.push('\r  1%\r  2%\n'), ['  2%']);
  assert.deepEqual(s.end(), []);
  const t = new LineSplitter({ redrawMs: 1000, clock: () => 0 });
  assert.deepEqual([...t.push('a\r'), ...t.push('\nb\r'), ...t.end()], ['a', 'b']);
});

test('the same lines whatever the chunk boundaries, \\r\\n split across two chunks included', () => {
  const text = 'one\r\ntwo\rthree\n\nfour\r\n';
  const whole = split([text]);
  for (let cut = 0; cut <= text.length; cut++) assert.deepEqual(split([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
  assert.deepEqual(whole, ['one', 'two', 'three', '', 'four']);
});

test('a line longer than the bound is logged once, cut with a marker; the rest of it is dropped', () => {
  assert.deepEqual(split(['abcdefghij', 'klmn\nok\n'], 8), ['abcdefgh … [line cut at 8 characters]', 'ok']);
  assert.deepEqual(split(['x'.repeat(20)], 8), ['xxxxxxxx … [line cut at 8 characters]']);
});

test('50 MB without a newline, in 64 kB chunks: one cut line, never more than the bound held', () => {
  const s = new LineSplitter({ max: 64 * 1024 });
  const chunk = 'y'.repeat(64 * 1024);
  const lines: string[] = [];
  for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.length) lines.push(...s.push(chunk));
  lines.push(...s.push('\n'));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].length, 64 * 1024 + ' … [line cut at 65536 characters]'.length);
});

test('50 MB of \\r-ended progress updates, a chunk every 10 ms: one line a second', () => {
  let now = 0;
  const s = new LineSplitter({ clock: () => now });
  const update = (i: number) => `\r${String(i % 100).padStart(3)}%|${'#'.repeat(i % 40)}|`;
  let chunk = '';
  for (let i = 0; chunk.length < 64 * 1024; i++) chunk += update(i);
  const perChunk = s.push(chunk).length;
  let total = perChunk;
  let bytes = chunk.length;
  while (bytes < 50 * 1024 * 1024) {
    now += 10;
    total += s.push(chunk).length;
    bytes += chunk.length;
  }
  const last = s.push('\n');
  assert.equal(perChunk, 1);
  assert.equal(total, 1 + Math.floor(now / 1000));
  assert.match(last[0], /^ *\d+%\|#*\|$/);
});
