// The admin routes' requests and the loopback check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAdminAnswer, isAdminPath, isLoopbackAddress, parseAdminRequest } from '../../src/http/admin.ts';

const parse = (path: string, body: string) => parseAdminRequest(path, Buffer.from(body));

test('deploy, refresh and delete with their fields', () => {
  assert.deepEqual(parse('/_cortex-local/deploy', ''), { action: 'deploy', path: null, force: false });
  assert.deepEqual(parse('/_cortex-local/deploy', '{"path": "/p/cortex.yaml", "force": true}'), { action: 'deploy', path: '/p/cortex.yaml', force: true });
  assert.deepEqual(parse('/_cortex-local/deploy', '{"path": null}'), { action: 'deploy', path: null, force: false });
  assert.deepEqual(parse('/_cortex-local/refresh', '{"api": "iris"}'), { action: 'refresh', api: 'iris', force: false });
  assert.deepEqual(parse('/_cortex-local/delete', '{"api": "iris"}'), { action: 'delete', api: 'iris' });
});

test('mistakes are 4xx answers that say what is expected', () => {
  const cases: [string, string, number, RegExp][] = [
    ['/_cortex-local/redeploy', '', 404, /no admin route \/_cortex-local\/redeploy: the server takes POST \/_cortex-local\/deploy, \/_cortex-local\/refresh, \/_cortex-local\/delete/],
    ['/_cortex-local', '', 404, /no admin route/],
    ['/_cortex-local/deploy', '{', 400, /is not JSON/],
    ['/_cortex-local/deploy', '[1]', 400, /must be a JSON object/],
    ['/_cortex-local/deploy', '{"force": "yes"}', 400, /"force" must be true or false/],
    ['/_cortex-local/deploy', '{"path": 3}', 400, /"path" must be the path of a cortex.yaml/],
    ['/_cortex-local/refresh', '{}', 400, /needs "api"/],
    ['/_cortex-local/delete', '{"api": "x", "force": true}', 400, /takes "api", not "force"/],
  ];
  for (const [path, body, status, error] of cases) {
    const answer = parse(path, body);
    assert.ok(isAdminAnswer(answer), `${path} ${body}`);
    assert.equal(answer.status, status, `${path} ${body}`);
    assert.match(String(answer.body.error), error);
  }
});

test('admin paths and loopback addresses', () => {
  assert.equal(isAdminPath('/_cortex-local/deploy'), true);
  assert.equal(isAdminPath('/_cortex-local'), true);
  assert.equal(isAdminPath('/_cortex-localx'), false);
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', '::', undefined]) assert.equal(isLoopbackAddress(a), false, String(a));
});
