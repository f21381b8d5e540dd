// Request ids of the front door: random UUIDs (version 4), made in batches of
// 128 (request-id.ts). Enough are drawn here to cross several batches.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId } from '../../src/http/request-id.ts';
import { UUID_V4 } from '../helpers/server.ts';

test('every id is a version-4 UUID and none repeats, across batches', () => {
  const ids = Array.from({ length: 1000 }, () => newRequestId());
  for (const id of ids) assert.match(id, UUID_V4);
  assert.equal(new Set(ids).size, ids.length);
});

test('every random digit varies: each position takes many values, the variant all four', () => {
  const ids = Array.from({ length: 2000 }, () => newRequestId());
  for (let pos = 0; pos < 36; pos++) {
    if ([8, 13, 14, 18, 23].includes(pos)) continue; // the dashes and the version digit
    const seen = new Set(ids.map((id) => id[pos]));
    // 2000 draws of 16 equally likely digits (4 for the variant's) miss one
    // with a probability far below 1e-40.
    assert.equal(seen.size, pos === 19 ? 4 : 16, `position ${pos}: ${[...seen].sort().join('')}`);
  }
});
