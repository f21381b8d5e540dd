// node:http in front of one PythonWorker (src/python-bridge), every request
// sent to the worker as soon as its body has arrived and answered with what
// the worker returns: the least a front door over the bridge can do. No
// admission, no request ids, no CORS, no body limits, no metrics, no pool.
// cortex-local / bare-bridge is what cortex-local's own per-request work (the
// guarantees of its front door and pool) costs.
//
//   node bench/baselines/bare-bridge.ts --predictor DIR/predictor.py [--config JSON] [--port 0] [--python python3]
// Prints "listening PORT" once the worker is ready.
import { createServer, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { directBodies, readBody } from '../../src/http/body-reader.ts';
import { byteLength } from '../../src/bytes.ts';
import { endWithBody } from '../../src/http/responses.ts';
import { answerHead } from './answer-head.ts';
import { oneWorker } from './one-worker.ts';

const { values } = parseArgs({
  options: {
    predictor: { type: 'string' },
    config: { type: 'string', default: '{}' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    python: { type: 'string', default: 'python3' },
    threads: { type: 'string', default: '1' },
  },
});
if (values.predictor === undefined) throw new Error('--predictor is required');
const predictor = resolve(values.predictor);

/** the answer of each request id; ids are reused once answered */
const waiting: (ServerResponse | undefined)[] = [];
const free: number[] = [];
let next = 1;

const worker = oneWorker(
  { predictor, config: values.config, python: values.python, threads: values.threads },
  {
    ready() {
      const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
        // As cortex-local reads a body: from node:http's parser where this Node allows it (body-reader.ts).
        const chunks: Buffer[] = [];
        readBody(req, (chunk) => {
          if (chunk !== null) chunks.push(chunk);
          else {
            const id = free.pop() ?? next++;
            waiting[id] = res;
            worker.send(id, chunks.length === 1 ? chunks[0] : chunks);
          }
          return true;
        });
      });
      server.listen(Number(values.port), values.host, () => {
        const addr = server.address();
        process.stdout.write(`listening ${typeof addr === 'object' && addr !== null ? addr.port : values.port}\n`);
      });
    },
    reply(id, _kind, payload) {
      const res = waiting[id] as ServerResponse;
      waiting[id] = undefined;
      free.push(id);
      const length = byteLength(payload);
      res.writeHead(200, answerHead(length));
      // As cortex-local writes an answer: a short one as a string, with the head in one write.
      endWithBody(res, payload, length);
    },
  },
);
await directBodies();
worker.start();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
