// The front door's ceiling: node:http reading the whole POST body and
// answering a fixed JSON of the same size as hello's prediction, with the
// headers cortex-local sends a client without an Origin (content type and
// length, a request id as long as its; no CORS headers). No routing, admission, metrics or worker: what
// cortex-local adds on top of node:http is the gap between this and it.
//
//   node bench/baselines/bare-node.ts [--port 0] [--host 127.0.0.1]
//   --echo: answer with the request body itself (the echo scenario's ceiling)
//   --body-file F: the fixed answer read from a file (large answers)
//   --threads N: N threads (node:worker_threads), each with its own server
//     listening on the same port with reusePort: the kernel spreads the
//     connections over them. What several front-door threads could answer.
//   --hop: the server runs on a worker thread (--threads of them), which sends
//     each request body to the main thread with postMessage and writes the
//     answer the main thread sends back: the cost every admitted request would
//     pay in a front door on its own thread, away from the pool and the pipes.
//   --hop-batch: --hop, with the bodies read in one event-loop turn sent in
//     one message (setImmediate), and their answers back in one.
// Prints "listening PORT" once every thread listens.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { directBodies, readBody } from '../../src/http/body-reader.ts';
import { endWithBody } from '../../src/http/responses.ts';
import { answerHead } from './answer-head.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    body: { type: 'string', default: '{"message": "Hello, cortex!"}' },
    'body-file': { type: 'string' },
    echo: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    hop: { type: 'boolean', default: false },
    'hop-batch': { type: 'boolean', default: false },
  },
});

const answer = values['body-file'] === undefined ? Buffer.from(values.body) : readFileSync(values['body-file']);
const echo = values.echo;
const threads = Math.max(1, Number(values.threads));
const hopBatch = values['hop-batch'];
const hop = values.hop || hopBatch;
const multi = threads > 1 || hop;

function reply(res: ServerResponse, out: Buffer): void {
  res.writeHead(200, answerHead(out.length));
  // As cortex-local writes an answer: a short one as a string, with the head in one write.
  endWithBody(res, out);
}

// As cortex-local reads a body: from node:http's parser where this Node allows it (body-reader.ts).
function readWhole(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  readBody(req, (chunk) => {
    if (chunk === null) done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    else if (echo || hop) chunks.push(chunk);
    return true;
  });
}

/** One server; `port` 0 picks a free one (the first thread), the others reuse it. */
function serve(port: number, onListening: (port: number) => void): void {
  let handle: (req: IncomingMessage, res: ServerResponse) => void;
  if (hop) {
    // Front-door thread: each body goes to the main thread, the answer comes
    // back by id. A message holds one request (--hop) or those of one
    // event-loop turn (--hop-batch).
    const waiting = new Map<number, ServerResponse>();
    let next = 0;
    let batch: { id: number; body: Uint8Array }[] = [];
    const flush = () => {
      parentPort?.postMessage(batch);
      batch = [];
    };
    parentPort?.on('message', (answers: { id: number; out: Uint8Array }[]) => {
      for (const a of answers) {
        const res = waiting.get(a.id);
        if (res === undefined) continue;
        waiting.delete(a.id);
        // A Buffer sent by postMessage arrives as a plain Uint8Array.
        reply(res, Buffer.from(a.out.buffer, a.out.byteOffset, a.out.byteLength));
      }
    });
    handle = (req, res) =>
      readWhole(req, (body) => {
        const id = next++;
        waiting.set(id, res);
        batch.push({ id, body });
        if (!hopBatch) flush();
        else if (batch.length === 1) setImmediate(flush);
      });
  } else {
    handle = (req, res) => readWhole(req, (body) => reply(res, echo ? body : answer));
  }
  const server = createServer({ keepAliveTimeout: 65_000 }, handle);
  server.listen({ port, host: values.host, reusePort: multi }, () => {
    const addr = server.address();
    onListening(typeof addr === 'object' && addr !== null ? addr.port : port);
  });
}

/** A worker thread serving on `port` (0: a free one); resolves with the port it listens on. */
function worker(port: number): Promise<number> {
  return new Promise((resolve) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { port }, argv: process.argv.slice(2) });
    w.on('error', (err) => {
      process.stderr.write(`worker: ${err.stack ?? err}\n`);
      process.exit(1);
    });
    w.on('message', (m: { listening: number } | { id: number; body: Uint8Array }[]) => {
      if (Array.isArray(m)) w.postMessage(m.map((r) => ({ id: r.id, out: echo ? r.body : answer })));
      else resolve(m.listening);
    });
  });
}

await directBodies();
if (isMainThread) {
  // The first server picks the port; the other threads then listen on it
  // too. With --hop the main thread has no server: it only answers the
  // front-door threads' messages.
  const first = hop ? worker(Number(values.port)) : new Promise<number>((r) => serve(Number(values.port), r));
  const port = await first;
  await Promise.all(Array.from({ length: threads - 1 }, () => worker(port)));
  process.stdout.write(`listening ${port}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));
} else {
  serve((workerData as { port: number }).port, (port) => parentPort?.postMessage({ listening: port }));
}
