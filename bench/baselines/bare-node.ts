// The front door's ceiling: node:http reading the whole POST body and
// answering a fixed JSON of the same size as hello's prediction, with the
// headers cortex-local sends. No routing, admission, metrics or worker: what
// cortex-local adds on top of node:http is the gap between this and it.
//
//   node bench/baselines/bare-node.ts [--port 0] [--host 127.0.0.1]
//   --echo: answer with the request body itself (the echo scenario's ceiling)
//   --body-file F: the fixed answer read from a file (large answers)
// Prints "listening PORT" once bound.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    body: { type: 'string', default: '{"message": "Hello, cortex!"}' },
    'body-file': { type: 'string' },
    echo: { type: 'boolean', default: false },
  },
});

const answer = values['body-file'] === undefined ? Buffer.from(values.body) : readFileSync(values['body-file']);
const echo = values.echo;
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => {
    if (echo) chunks.push(chunk);
  });
  req.on('end', () => {
    const out = echo ? (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)) : answer;
    res.writeHead(200, {
      'access-control-allow-origin': '*',
      'content-type': 'application/json',
      'content-length': out.length,
    });
    res.end(out);
  });
});
server.listen(Number(values.port), values.host, () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr !== null ? addr.port : values.port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
