// Request bodies taken from node:http's parser (body-reader.ts) against the
// same bodies read through 'data' and 'end': the same bytes, chunk sizes,
// pipelining and keep-alive, and the check that decides which way a process
// reads them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { directBodies, parserHandsBodies, readBody } from '../../src/http/body-reader.ts';
import { rawConnect } from '../helpers/raw-http.ts';

test('this Node hands request bodies to the request\'s push(): the check passes, and the process reads bodies that way', async () => {
  assert.equal(await parserHandsBodies(readBody), true);
  assert.equal(await directBodies(), true);
});

test('a Node whose parser would not hand the body over fails the check within its time limit', async () => {
  const neverHanded: typeof readBody = () => {};
  assert.equal(await parserHandsBodies(neverHanded, 300), false);
});

for (const fromParser of [true, false]) {
  describe(fromParser ? 'taken from the parser' : 'read through data and end', () => {
    /** Answers each POST with what it read: the chunks' count and the body. */
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      readBody(req, (chunk) => {
        if (chunk !== null) chunks.push(chunk);
        else res.end(JSON.stringify({ chunks: chunks.length, body: Buffer.concat(chunks).toString('latin1') }));
        return true;
      }, fromParser);
    });
    const ready = (async () => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    })();
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    test('a body in one piece, an empty one, and every byte value, on one kept-alive connection', async () => {
      const c = await rawConnect(await ready);
      c.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello world');
      assert.deepEqual(JSON.parse((await c.next()).body), { chunks: 1, body: 'hello world' });
      c.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n');
      assert.deepEqual(JSON.parse((await c.next()).body), { chunks: 0, body: '' });
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      c.write(Buffer.concat([Buffer.from('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 256\r\n\r\n'), every]));
      assert.equal(Buffer.from(JSON.parse((await c.next()).body).body, 'latin1').compare(every), 0);
      c.socket.destroy();
    });

    test('a body trickled in three writes and a chunked one arrive whole, in the order sent', async () => {
      const c = await rawConnect(await ready);
      // Each piece handed to the kernel before the next is written: the
      // server may read them apart or together, and must get the same body.
      const flushed = (data: string) => new Promise((resolve) => c.socket.write(data, resolve));
      await flushed('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\nabc');
      await flushed('def');
      await flushed('ghi');
      const trickled = JSON.parse((await c.next()).body);
      assert.equal(trickled.body, 'abcdefghi');
      assert.ok(trickled.chunks >= 1 && trickled.chunks <= 3);
      c.write('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\none\r\n');
      c.write('4\r\n two\r\n6\r\n three\r\n0\r\n\r\n');
      assert.equal(JSON.parse((await c.next()).body).body, 'one two three');
      c.socket.destroy();
    });

    test('pipelined requests are each read to their own end and answered in order', async () => {
      const c = await rawConnect(await ready);
      c.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nfirstPOST / HTTP/1.1\r\nhost: x\r\ncontent-length: 6\r\n\r\nsecondPOST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nthird');
      const bodies = [];
      for (let i = 0; i < 3; i++) bodies.push(JSON.parse((await c.next()).body).body);
      assert.deepEqual(bodies, ['first', 'second', 'third']);
      c.socket.destroy();
    });
  });
}
