// A worker's output cut into log lines: \n, \r\n and \r end lines, a line is
// bounded, and the cost is linear in the output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../src/python-bridge/lines.ts';

function split(chunks: string[], max?: number): string[] {
  const s = new LineSplitter(max);
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

test('\\n, \\r\\n and a lone \\r each end a line; a \\r that ends nothing adds no line', () => {
  assert.deepEqual(split(['a\nb\r\nc\rd\n\ne']), ['a', 'b', 'c', 'd', '', 'e']);
  assert.deepEqual(split(['\r 10%\r 50%\r100%\n']), [' 10%', ' 50%', '100%']);
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
  const s = new LineSplitter(64 * 1024);
  const chunk = 'y'.repeat(64 * 1024);
  const lines: string[] = [];
  for (let sent = 0; sent < 50 * 1024 * 1024; sent += chunk.length) lines.push(...s.push(chunk));
  lines.push(...s.push('\n'));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].length, 64 * 1024 + ' … [line cut at 65536 characters]'.length);
});

test('50 MB of \\r-ended progress updates: every update is one line', () => {
  const s = new LineSplitter();
  const update = (i: number) => `\r${String(i % 100).padStart(3)}%|${'#'.repeat(i % 40)}|`;
  let chunk = '';
  for (let i = 0; chunk.length < 64 * 1024; i++) chunk += update(i);
  const perChunk = s.push(chunk).length;
  let total = perChunk;
  let bytes = chunk.length;
  while (bytes < 50 * 1024 * 1024) {
    total += s.push(chunk).length;
    bytes += chunk.length;
  }
  total += s.end().length;
  const updatesPerChunk = chunk.split('\r').length - 1;
  assert.equal(total, (bytes / chunk.length) * updatesPerChunk);
});
