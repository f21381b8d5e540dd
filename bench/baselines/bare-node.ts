// The front door's ceiling: node:http reading the whole POST body and
// answering a fixed JSON of the same size as hello's prediction, with the
// headers cortex-local sends. No routing, admission, metrics or worker: what
// cortex-local adds on top of node:http is the gap between this and it.
//
//   node bench/baselines/bare-node.ts [--port 0] [--host 127.0.0.1]
// Prints "listening PORT" once bound.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    body: { type: 'string', default: '{"message": "Hello, cortex!"}' },
  },
});

const answer = Buffer.from(values.body);
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  req.on('end', () => {
    res.writeHead(200, {
      'access-control-allow-origin': '*',
      'content-type': 'application/json',
      'content-length': answer.length,
    });
    res.end(answer);
  });
});
server.listen(Number(values.port), values.host, () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr !== null ? addr.port : values.port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
