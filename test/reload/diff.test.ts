// A deploy compared API by API: created, deleted, rolled, taken in place, untouched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffApis } from '../../src/reload/diff.ts';
import { makeApi } from '../helpers/api.ts';

const running = [
  { name: 'same', version: 'aaaa', restartKey: 'ka' },
  { name: 'code', version: 'bbbb', restartKey: 'kb' },
  { name: 'scale', version: 'cccc', restartKey: 'kc' },
  { name: 'gone', version: 'dddd', restartKey: 'kd' },
];

test('each API of the new config against the running ones', () => {
  const next = [
    { api: makeApi('same', '/p'), version: { version: 'aaaa', restartKey: 'ka' } },
    { api: makeApi('code', '/p'), version: { version: 'b2b2', restartKey: 'kb2' } },
    { api: makeApi('scale', '/p'), version: { version: 'c2c2', restartKey: 'kc' } },
    { api: makeApi('new', '/p'), version: { version: 'eeee', restartKey: 'ke' } },
  ];
  const { changes, outcomes } = diffApis(running, next);
  assert.deepEqual(
    changes.map((c) => (c.kind === 'remove' ? `remove ${c.name}` : c.kind === 'add' ? `add ${c.api.name} ${c.version}` : `update ${c.api.name} ${c.version} restart=${c.restart}`)),
    ['remove gone', 'update code b2b2 restart=true', 'update scale c2c2 restart=false', 'add new eeee'],
  );
  assert.deepEqual(
    outcomes.map((o) => [o.api, o.outcome, o.from, o.version]),
    [
      ['gone', 'deleted', 'dddd', null],
      ['same', 'up to date', 'aaaa', 'aaaa'],
      ['code', 'updating', 'bbbb', 'b2b2'],
      ['scale', 'updated in place', 'cccc', 'c2c2'],
      ['new', 'created', null, 'eeee'],
    ],
  );
});

test('an empty config deletes every API; the same config changes nothing', () => {
  assert.equal(diffApis(running, []).changes.filter((c) => c.kind === 'remove').length, 4);
  const same = running.map((r) => ({ api: makeApi(r.name, '/p'), version: { version: r.version, restartKey: r.restartKey } }));
  assert.deepEqual(diffApis(running, same).changes, []);
});
