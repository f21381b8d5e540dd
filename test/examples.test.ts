// The README's quick start and the examples' curl lines, run as a user would:
// `bin/cortex-local serve examples/NAME`, then the documented request.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { startServer } from './helpers/server.ts';

const examples = join(import.meta.dirname, '..', 'examples');

test('examples/hello answers the README curl line', async () => {
  const server = await startServer(join(examples, 'hello'), [], { waitForApis: ['hello'] });
  try {
    const r = await request(server.url + '/hello', { method: 'POST', body: '{"name": "cortex"}' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { message: 'Hello, cortex!' });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('examples/iris classifies its sample as setosa, with and without numpy', async () => {
  const sample = await readFile(join(examples, 'iris', 'sample.json'));
  // The test venv has numpy; the machine's python3 may not: both paths must agree.
  for (const python of [undefined, 'python3']) {
    const server = await startServer(join(examples, 'iris'), python ? ['--python', python] : [], { waitForApis: ['iris'] });
    try {
      const r = await request(server.url + '/iris', { method: 'POST', body: sample, headers: { 'content-type': 'application/json' } });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.json(), 'setosa');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  }
});
