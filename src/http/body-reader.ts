// A request body as node:http's parser hands it over. The parser gives each
// body chunk to the request's push() and its end to push(null)
// (lib/_http_common.js: parserOnBody, parserOnMessageComplete; the same from
// Node 20 to 24). A push of the request's own takes them there, without the
// stream machinery a 'data' listener sets going for every request (a resume
// and a flow scheduled, the end emitted on a later tick): about 1 µs of bare
// node:http's 12 per hello request (bench/results/perf-findings.md §1).
//
// That is node:http's inside, not its API, so whether this Node still works
// that way is checked once per process on a loopback connection
// (directBodies); until the check has passed, and for good if it fails, bodies
// are read through 'data' and 'end'.
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * Takes a body chunk, or null once the body is complete. Returns true: to
 * node:http's parser, false would mean "stop reading the socket".
 */
export type BodyPart = (chunk: Buffer | null) => true;

let direct = false;
let checked: Promise<boolean> | null = null;

/** Hands `req`'s body to `part`, chunk by chunk, then null. */
export function readBody(req: IncomingMessage, part: BodyPart, fromParser = direct): void {
  if (fromParser) {
    req.push = part;
    return;
  }
  req.on('data', part);
  req.on('end', () => part(null));
}

/** Whether bodies are taken from the parser in this process: checked on the first call, the same promise after. */
export function directBodies(): Promise<boolean> {
  checked ??= parserHandsBodies(readBody).then((works) => (direct = works));
  return checked;
}

const PROBE_MS = 2_000;

/**
 * A chunked request in two writes, to a server that reads it with `read`:
 * true when the answer holds the body whole, false when none comes within
 * `timeoutMs` or anything fails on the way.
 */
export function parserHandsBodies(read: typeof readBody, timeoutMs = PROBE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      read(req, (chunk) => {
        if (chunk === null) res.end(Buffer.concat(chunks));
        else chunks.push(chunk);
        return true;
      }, true);
    });
    let client: Socket | null = null;
    let settled = false;
    const done = (works: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client?.destroy();
      server.closeAllConnections();
      server.close();
      resolve(works);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    server.on('error', () => done(false));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      let answer = '';
      client = connect(port, '127.0.0.1');
      client.on('error', () => done(false));
      client.setEncoding('latin1');
      client.on('data', (text: string) => {
        answer += text;
        if (answer.endsWith('\r\n\r\nhello, world')) done(true);
      });
      client.write('POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello,\r\n');
      setImmediate(() => client?.write('6\r\n world\r\n0\r\n\r\n'));
    });
  });
}
