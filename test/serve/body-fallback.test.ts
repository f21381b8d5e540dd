// A Node whose HTTP parser would not hand request bodies to the request's own
// push() (src/http/body-reader.ts): serve says so in its log, once its check
// has failed, and reads bodies through 'data' and 'end', answering as ever.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { rawConnect } from '../helpers/raw-http.ts';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const hello = join(import.meta.dirname, '..', '..', 'examples', 'hello');
const patch = join(import.meta.dirname, '..', 'fixtures', 'body-reader', 'parser-keeps-push.mjs');
let server: ServerProcess;

before(async () => {
  server = await startServer(hello, [], { waitForApis: ['hello'], env: { NODE_OPTIONS: `--import ${patch}` } });
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

test('the failed check is logged, and predictions are answered from bodies read through streams', async () => {
  assert.match(server.output(), /this Node's HTTP parser did not hand a test request's body to the request's push\(\).*request bodies are read through streams/);
  const res = await request(server.url + '/hello', { method: 'POST', body: '{"name": "fallback"}', headers: { 'content-type': 'application/json' } });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { message: 'Hello, fallback!' });
});

test('a chunked body in two writes and a pipelined pair are read whole on the fallback too', async () => {
  const c = await rawConnect(server.url);
  const [head, tail] = ['{"name": ', '"chunked"}'];
  c.write(`POST /hello HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${head.length.toString(16)}\r\n${head}\r\n`);
  await new Promise((resolve) => c.socket.write(`${tail.length.toString(16)}\r\n${tail}\r\n0\r\n\r\n`, resolve));
  const chunked = await c.next();
  assert.equal(chunked.status, 200);
  assert.deepEqual(JSON.parse(chunked.body), { message: 'Hello, chunked!' });
  const one = '{"name": "one"}';
  const two = '{"name": "two"}';
  c.write(`POST /hello HTTP/1.1\r\nhost: x\r\ncontent-length: ${one.length}\r\n\r\n${one}POST /hello HTTP/1.1\r\nhost: x\r\ncontent-length: ${two.length}\r\n\r\n${two}`);
  assert.deepEqual(JSON.parse((await c.next()).body), { message: 'Hello, one!' });
  assert.deepEqual(JSON.parse((await c.next()).body), { message: 'Hello, two!' });
  c.socket.destroy();
});
