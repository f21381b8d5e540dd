// The front door: one node:http server for every API. Admission happens
// before the body is read, so an over-capacity request is refused at once.
// The same class serves on the main thread and on each front-door thread;
// what it asks of the APIs goes through a Backend (backend.ts).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CrashReport } from '../pool/job.ts';
import { Kind } from '../python-bridge/frames.ts';
import { ApiKey } from './api-key.ts';
import type { Backend, Gate } from './backend.ts';
import { Refusal } from './refusal.ts';
import { CORS_HEADERS, sendHtml, sendJson, sendRaw, sendRefusal, truncate } from './responses.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { intParam, splitUrl, statusRoute, wantsDebug, wantsHtml, type StatusRoute } from './routes.ts';

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** How long a connection answered early (413) keeps reading its client's upload before it closes. */
export const LINGER_MS = 2_000;

const GET_MESSAGE = 'make a prediction by sending a post request to this endpoint with a json payload';

/** Log lines a GET /apis/NAME/logs answers with at most. */
const MAX_LOG_LINES = 1000;

export interface FrontDoorOptions {
  backend: Backend;
  maxBody?: number;
  /** when set, every request but /healthz must carry `Authorization: Bearer KEY` */
  apiKey?: string;
}

/** An API as the front door sees it: its gate, its index in the backend, and its cached refusal. */
interface Route {
  gate: Gate;
  index: number;
  refusal: Refusal;
}

export class FrontDoor {
  readonly server: Server;
  readonly #byEndpoint = new Map<string, Route>();
  readonly #byName = new Map<string, number>();
  readonly #backend: Backend;
  readonly #maxBody: number;
  readonly #apiKey: ApiKey | null;
  #closing = false;

  constructor(opts: FrontDoorOptions) {
    this.#backend = opts.backend;
    opts.backend.gates.forEach((gate, index) => {
      this.#byEndpoint.set(gate.endpoint, { gate, index, refusal: new Refusal(gate) });
      this.#byName.set(gate.name, index);
    });
    this.#maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    this.#apiKey = opts.apiKey === undefined ? null : new ApiKey(opts.apiKey);
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.#handle(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#clientError(err, socket));
  }

  /** Requests node:http cannot parse still get a JSON answer, then the connection closes. */
  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const body = JSON.stringify({ error: `malformed HTTP request: ${err.message}` });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }

  /** Resolves with the port bound; `reusePort` lets the other front-door threads bind the same one. */
  listen(host: string, port: number, reusePort = false): Promise<number> {
    const server = this.server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, reusePort }, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  /** Stop admitting: new prediction requests get 503 and connections close after their answer. */
  beginShutdown(): void {
    this.#closing = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** After beginShutdown and the last answer: closes the connections still open. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return Promise.resolve();
  }

  kill(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const { path, query } = splitUrl(req.url ?? '/');
    if (this.#closing) res.shouldKeepAlive = false;
    if (this.#apiKey !== null && path !== '/healthz' && !this.#apiKey.accepts(req.headers.authorization)) {
      // A browser asks for a password only on a Basic challenge, and answers
      // the dashboard's own requests with it only if they are challenged too.
      const challenge = /^bearer\b/i.test(req.headers.authorization ?? '') ? 'Bearer realm="cortex-local", error="invalid_token"' : 'Basic realm="cortex-local: the API key is the password", charset="UTF-8"';
      sendJson(res, 401, { error: 'missing or wrong API key: send "Authorization: Bearer <key>"' }, { 'www-authenticate': challenge });
      return;
    }
    const backend = this.#backend;
    const route = this.#byEndpoint.get(path);
    if (route !== undefined) {
      if (req.method === 'POST') return this.#predict(route, req, res, query);
      if (req.method === 'GET') return this.#answer(res, backend.summary(route.index).then((s) => [200, { message: GET_MESSAGE, ...s }]));
      if (req.method === 'OPTIONS') return this.#preflight(res);
      return sendJson(res, 405, { error: `method ${req.method} is not allowed on ${path}: use POST`, api: route.gate.name }, { allow: 'GET, POST, OPTIONS' });
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { ok: true });
      if (path === '/readyz') {
        return this.#answer(res, backend.notReady().then((notReady) => [notReady.length === 0 ? 200 : 503, { ready: notReady.length === 0, not_ready: notReady }]));
      }
      if (path === '/metrics') return void this.#sendMetrics(res);
      if (path === '/') {
        if (wantsHtml(req.headers.accept)) return sendHtml(res, DASHBOARD_HTML);
        return this.#answer(res, Promise.all(backend.gates.map((_, i) => backend.summary(i))).then((apis) => [200, { apis }]));
      }
      const status = statusRoute(path);
      if (status !== null) return this.#status(res, status, query);
    }
    if (req.method === 'OPTIONS') return this.#preflight(res);
    sendJson(res, 404, {
      error: `no API at ${path}`,
      endpoints: backend.gates.map((g) => g.endpoint),
    });
  }

  #status(res: ServerResponse, route: StatusRoute, query: string): void {
    const backend = this.#backend;
    if (route.kind === 'apis') {
      const each = intParam(query, 'series', 0) === 1 ? (i: number) => backend.history(i) : (i: number) => backend.summary(i);
      return this.#answer(res, Promise.all(backend.gates.map((_, i) => each(i))).then((apis) => [200, { apis }]));
    }
    const gate = this.#byName.get(route.name);
    if (gate === undefined) {
      return sendJson(res, 404, { error: `no API named "${route.name}"`, apis: backend.gates.map((g) => g.name) });
    }
    switch (route.view) {
      case 'summary':
        return this.#answer(res, backend.summary(gate).then((s) => [200, s]));
      case 'autoscaler':
        return this.#answer(res, backend.autoscaler(gate).then((a) => [200, a]));
      case 'logs': {
        const limit = Math.min(intParam(query, 'limit', MAX_LOG_LINES), MAX_LOG_LINES);
        return this.#answer(res, backend.logs(gate, intParam(query, 'after', 0), limit).then((l) => [200, l]));
      }
    }
  }

  /** A status answer that the backend may have to fetch from another thread. */
  #answer(res: ServerResponse, answer: Promise<[number, unknown]>): void {
    answer.then(
      ([status, body]) => sendJson(res, status, body),
      (err: unknown) => sendJson(res, 500, { error: `could not read the server's state: ${(err as Error).message}` }),
    );
  }

  #predict(route: Route, req: IncomingMessage, res: ServerResponse, query: string): void {
    const { gate, index } = route;
    const backend = this.#backend;
    const callerId = req.headers['x-request-id'] as string | undefined;
    if (this.#closing || !gate.tryAdmit()) {
      // The overload path: as little work as the answer allows (refusal.ts,
      // sendRefusal). The body is not read; node:http discards it after the
      // answer (req._dump), so the connection stays usable for the next request.
      const prefix = route.refusal.prefix(this.#closing);
      gate.refused(route.refusal.reason);
      sendRefusal(res, prefix, callerId ?? randomUUID(), callerId);
      return;
    }
    const api = gate.name;
    const requestId = callerId ?? randomUUID();
    const started = performance.now();
    const declared = Number(req.headers['content-length']);
    if (declared > this.#maxBody) {
      gate.release();
      this.#tooLarge(res, index, api, requestId);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = () => {
      if (done) return;
      done = true;
      gate.release();
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > this.#maxBody) {
        fail();
        this.#tooLarge(res, index, api, requestId);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', fail);
    req.on('aborted', fail);
    req.on('end', () => {
      if (done) return;
      done = true;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      const debug = wantsDebug(query);
      if (debug) backend.log(`[${api}] request ${requestId} payload: ${truncate(body.toString('utf8'))}`);
      const finish = (status: number) => backend.answered(index, status, (performance.now() - started) / 1000);
      const job = {
        body,
        cancelled: false,
        queuedAt: 0,
        sentAt: 0,
        settle: (kind: number, payload: Buffer) => {
          if (debug) backend.log(`[${api}] request ${requestId} prediction: ${truncate(payload.toString('utf8'))}`);
          switch (kind) {
            case Kind.RESULT_JSON:
              sendRaw(res, 200, 'application/json', payload, requestId);
              return finish(200);
            case Kind.RESULT_BYTES:
              sendRaw(res, 200, 'application/octet-stream', payload, requestId);
              return finish(200);
            case Kind.BAD_REQUEST:
              sendJson(res, 400, { error: payload.toString('utf8'), api, request_id: requestId }, { 'x-request-id': requestId });
              return finish(400);
            default: {
              const { error, traceback } = JSON.parse(payload.toString('utf8')) as { error: string; traceback: string };
              backend.log(`[${api}] request ${requestId} failed in predict():\n${traceback.trimEnd()}`);
              sendJson(res, 500, { error, api, request_id: requestId }, { 'x-request-id': requestId });
              return finish(500);
            }
          }
        },
        crash: (error: CrashReport) => {
          sendJson(res, 502, { error: error.message, code: error.code, api, request_id: requestId }, { 'x-request-id': requestId });
          finish(502);
        },
      };
      res.once('close', () => {
        if (!res.writableFinished) gate.abandon(job);
      });
      gate.dispatch(job);
    });
  }

  #tooLarge(res: ServerResponse, gate: number, api: string, requestId: string): void {
    this.#backend.answered(gate, 413, null);
    // The rest of the body is not read: close the connection after answering,
    // but not at once (see lingerOnClose).
    res.shouldKeepAlive = false;
    lingerOnClose(res.socket);
    sendJson(res, 413, { error: `request body is larger than the limit of ${this.#maxBody} bytes (--max-body)`, api, request_id: requestId }, { connection: 'close', 'x-request-id': requestId });
  }

  #preflight(res: ServerResponse): void {
    res.writeHead(204, { ...CORS_HEADERS, 'access-control-max-age': '86400' });
    res.end();
  }

  async #sendMetrics(res: ServerResponse): Promise<void> {
    try {
      const { contentType, text } = await this.#backend.metrics();
      res.writeHead(200, { 'content-type': contentType });
      res.end(text);
    } catch (err) {
      sendJson(res, 500, { error: `could not collect the metrics: ${(err as Error).message}` });
    }
  }
}

/**
 * A lingering close, as nginx does it. Answered before its body was read (413),
 * a client may still be uploading; were the socket closed at once, the kernel
 * would answer its next bytes with a reset, and the client would report a
 * broken pipe instead of the answer. node:http closes such a connection with
 * destroySoon() once the answer is written: this one sends its FIN, then reads
 * and drops what still comes until the client closes or LINGER_MS pass.
 */
function lingerOnClose(socket: Socket | null): void {
  if (socket === null) return;
  socket.destroySoon = function (this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.on('data', () => {});
    this.resume();
  };
}
