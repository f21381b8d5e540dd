import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMemory, formatBytes, processTree } from '../../src/pool/memory.ts';

const Mi = 1024 * 1024;

test('a worker\'s tree: every process below it by parent pid, however deep, and nothing else', () => {
  const procs = [
    { pid: 1, ppid: 0 },
    { pid: 10, ppid: 1 },
    { pid: 11, ppid: 10 },
    { pid: 12, ppid: 10 },
    { pid: 13, ppid: 12 },
    { pid: 20, ppid: 1 },
    { pid: 21, ppid: 20 },
  ];
  assert.deepEqual(processTree(procs, 10).sort(), [10, 11, 12, 13]);
  assert.deepEqual(processTree(procs, 13), [13]);
  assert.deepEqual(processTree(procs, 99), [99]);
});

test('over the limit, the replica\'s largest worker tree is the one stopped, reported like OOMKilled', () => {
  assert.equal(checkMemory(200 * Mi, [90 * Mi, 100 * Mi]), null);
  assert.deepEqual(checkMemory(200 * Mi, [90 * Mi, null, 150 * Mi]), { victim: 2, message: 'OOMKilled: memory limit 200Mi exceeded: 240Mi' });
  assert.equal(checkMemory(1, [null, null]), null);
});

test('bytes are written as Kubernetes writes quantities', () => {
  assert.deepEqual([512, 2048, 1.5 * 1024 * Mi, 100 * 1000 * 1000].map(formatBytes), ['512', '2Ki', '1.5Gi', '95.4Mi']);
});
