import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitUrl, wantsDebug } from '../../src/http/routes.ts';

test('paths lose the query and one trailing slash', () => {
  assert.deepEqual(splitUrl('/iris?debug=true'), { path: '/iris', query: 'debug=true' });
  assert.deepEqual(splitUrl('/iris/'), { path: '/iris', query: '' });
  assert.deepEqual(splitUrl('/'), { path: '/', query: '' });
});

test('debug=true in any case turns debug logging on', () => {
  assert.equal(wantsDebug('debug=true'), true);
  assert.equal(wantsDebug('x=1&debug=True'), true);
  assert.equal(wantsDebug('debug=false'), false);
  assert.equal(wantsDebug(''), false);
});
