// The front door: one node:http server for every API. A prediction request is
// admitted once its body has arrived, so a slow upload holds no slot and
// drives no autoscaling; one that finds the API at capacity when its headers
// arrive is refused at once, its body never read. The same class serves on
// the main thread and on each front-door thread; what it asks of the APIs
// goes through a Backend (backend.ts).
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { joined, type Bytes } from '../bytes.ts';
import type { Ticket } from '../pool/job.ts';
import type { Reply } from '../pool/reply.ts';
import { isAdminAnswer, isAdminPath, isLoopbackAddress, MAX_ADMIN_BODY, parseAdminRequest } from './admin.ts';
import { ApiKey } from './api-key.ts';
import type { Backend, Gate } from './backend.ts';
import { BodyDeadlines, DEFAULT_BODY_TIMEOUT_MS } from './body-deadlines.ts';
import { directBodies, readBody } from './body-reader.ts';
import { DEFAULT_MAX_QUEUED_BYTES, LocalByteBudget, type BodyBytes } from './byte-budget.ts';
import { forLog } from './log-text.ts';
import { Refusal } from './refusal.ts';
import { newRequestId } from './request-id.ts';
import { RefusedFor } from './refusal-tally.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { PREFLIGHT_HEADERS, CORS_HEADERS, rawAnswer, sendHtml, sendJson, sendRaw, sendRefusal, wantsCors } from './responses.ts';
import { BUILT_IN_ROUTES, intParam, splitUrl, statusRoute, wantsDebug, wantsHtml, type StatusRoute } from './routes.ts';

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** How long a connection answered early (413, 408) keeps reading its client's upload before it closes. */
export const LINGER_MS = 2_000;

const GET_MESSAGE = 'make a prediction by sending a post request to this endpoint with a json payload';

const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** Log lines a GET /apis/NAME/logs answers with at most. */
const MAX_LOG_LINES = 1000;

export interface FrontDoorOptions {
  backend: Backend;
  maxBody?: number;
  /** when set, every request but /healthz and CORS preflights must carry `Authorization: Bearer KEY` */
  apiKey?: string;
  /** how long a request body may take to arrive; past it, 408 */
  bodyTimeoutMs?: number;
  /** bytes of bodies held for requests not yet answered, shared by every front door of the server (--max-queued-bytes) */
  queuedBytes?: BodyBytes;
}

/** An API as the front door sees it: its gate and its cached refusals. */
interface Route {
  gate: Gate;
  refusal: Refusal;
  /** the 503 of --max-queued-bytes, up to its request id (see sendRefusal) */
  overQueuedBytes: string;
}

export class FrontDoor {
  readonly server: Server;
  /** the routing table, replaced whole when the backend's APIs change */
  #byEndpoint = new Map<string, Route>();
  #byName = new Map<string, Gate>();
  readonly #routes = new WeakMap<Gate, Route>();
  readonly #backend: Backend;
  readonly #maxBody: number;
  readonly #apiKey: ApiKey | null;
  readonly #queuedBytes: BodyBytes;
  /** the bodies still arriving, each with what to do when its time is up */
  readonly #deadlines: BodyDeadlines<() => void>;
  readonly #sweep: NodeJS.Timeout;
  /** requests that asked `Expect: 100-continue`: the 100 goes out only when the body is wanted */
  readonly #expectsContinue = new WeakSet<IncomingMessage>();
  /** sockets node:http gave up parsing, already answered */
  readonly #broken = new WeakSet<Duplex>();
  #closing = false;
  /** prediction requests that reached this front door */
  seen = 0;

  constructor(opts: FrontDoorOptions) {
    this.#backend = opts.backend;
    this.#queuedBytes = opts.queuedBytes ?? new LocalByteBudget(DEFAULT_MAX_QUEUED_BYTES);
    void this.routesChanged();
    this.#maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    this.#apiKey = opts.apiKey === undefined ? null : new ApiKey(opts.apiKey);
    const bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.#deadlines = new BodyDeadlines(bodyTimeoutMs);
    this.#sweep = setInterval(() => {
      for (const expire of this.#deadlines.expired()) expire();
    }, Math.min(1000, Math.max(10, bodyTimeoutMs / 4)));
    this.#sweep.unref();
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.#handle(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#clientError(err, socket));
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      this.#expectsContinue.add(req);
      this.#handle(req, res);
    });
    this.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      sendJson(res, 417, { error: `Expect: ${forLog(String(req.headers.expect), 200)} is not supported (only 100-continue is)` }, requestIdOf(req));
    });
    // Without a listener node:http drops a CONNECT without a word.
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      socket.end(rawAnswer(405, 'Method Not Allowed', { error: 'CONNECT is not supported: this server is no proxy' }, requestIdOf(req), { allow: 'GET, HEAD, POST, OPTIONS' }, wantsCors(req.headers)));
    });
  }

  /**
   * Requests node:http cannot parse still get a JSON answer, then the
   * connection closes. A request parsed before the malformed one (pipelined
   * on the same connection) is answered first.
   */
  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (this.#broken.has(socket)) return;
    this.#broken.add(socket);
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason, error] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', `request headers are larger than the server accepts: ${err.message}`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request did not arrive in time']
          : err.code === 'HPE_INVALID_METHOD' && isMethodToken(err) ? [501, 'Not Implemented', 'unknown HTTP method: this server answers GET, HEAD, POST and OPTIONS']
            : [400, 'Bad Request', `malformed HTTP request: ${err.message}`];
    const answer = rawAnswer(status, reason, { error }, newRequestId());
    const endWhenAnswered = () => {
      // node:http's own record of the answer the connection is writing; the
      // next pipelined one is attached when it finishes.
      const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (current) current.once('finish', endWhenAnswered);
      else if (socket.writable) socket.end(answer);
    };
    endWhenAnswered();
  }

  /**
   * The backend's APIs changed: the routing table is rebuilt from them and
   * swapped in at once, so a request sees the old table or the new one,
   * never a mix. Resolves at once: the table is this front door's.
   */
  routesChanged(): Promise<void> {
    const overQueuedBytes = `the server holds ${this.#queuedBytes.limit} bytes of request bodies not yet answered (--max-queued-bytes); retry later`;
    const table = new Map<string, Route>();
    const byName = new Map<string, Gate>();
    for (const gate of this.#backend.gates) {
      byName.set(gate.name, gate);
      let route = this.#routes.get(gate);
      if (route === undefined) {
        route = { gate, refusal: new Refusal(gate), overQueuedBytes: `${JSON.stringify({ error: overQueuedBytes, api: gate.name }).slice(0, -1)},"request_id":` };
        this.#routes.set(gate, route);
      }
      table.set(gate.endpoint, route);
    }
    this.#byEndpoint = table;
    this.#byName = byName;
    return Promise.resolve();
  }

  /**
   * Resolves with the port bound; `reusePort` lets the other front-door
   * threads bind the same one. Bodies are read from node:http's parser from
   * the first request on when this Node allows it (body-reader.ts).
   */
  async listen(host: string, port: number, reusePort = false): Promise<number> {
    if (!(await directBodies())) {
      this.#backend.log("this Node's HTTP parser did not hand a test request's body to the request's push() (src/http/body-reader.ts): request bodies are read through streams, about 1 µs more per request");
    }
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
    clearInterval(this.#sweep);
    this.server.closeAllConnections();
    return Promise.resolve();
  }

  kill(): void {
    clearInterval(this.#sweep);
    this.server.close();
    this.server.closeAllConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const { path, query } = splitUrl(req.url ?? '/');
    if (this.#closing) res.shouldKeepAlive = false;
    const method = req.method;
    // node:http builds req.headers on the first read, behind a getter: read once.
    const headers = req.headers;
    const callerId = headers['x-request-id'] as string | undefined;
    // A browser sends its preflight without credentials: it cannot carry the key.
    if (method === 'OPTIONS') return this.#preflight(res, callerId ?? newRequestId());
    if (this.#apiKey !== null && path !== '/healthz' && !this.#apiKey.accepts(headers.authorization)) {
      // A browser asks for a password only on a Basic challenge, and answers
      // the dashboard's own requests with it only if they are challenged too.
      const challenge = /^bearer\b/i.test(headers.authorization ?? '') ? 'Bearer realm="cortex-local", error="invalid_token"' : 'Basic realm="cortex-local: the API key is the password", charset="UTF-8"';
      sendJson(res, 401, { error: 'missing or wrong API key: send "Authorization: Bearer <key>"' }, callerId ?? newRequestId(), { 'www-authenticate': challenge });
      return;
    }
    const route = this.#byEndpoint.get(path);
    if (route !== undefined && method === 'POST') return this.#predict(route, req, res, query, callerId, headers);
    const requestId = callerId ?? newRequestId();
    const backend = this.#backend;
    const reading = method === 'GET' || method === 'HEAD';
    if (route !== undefined) {
      if (reading) return this.#answer(res, requestId, backend.summary(route.gate.id).then((s) => [200, { message: GET_MESSAGE, ...s }]));
      return sendJson(res, 405, { error: `method ${method} is not allowed on ${path}: use POST`, api: route.gate.name }, requestId, { allow: 'GET, HEAD, POST, OPTIONS' });
    }
    if (BUILT_IN_ROUTES.has(path)) {
      if (!reading) return sendJson(res, 405, { error: `method ${method} is not allowed on ${path}: use GET` }, requestId, { allow: 'GET, HEAD, OPTIONS' });
      if (path === '/healthz') return sendJson(res, 200, { ok: true }, requestId);
      if (path === '/readyz') {
        return this.#answer(res, requestId, backend.notReady().then((notReady) => [notReady.length === 0 ? 200 : 503, { ready: notReady.length === 0, not_ready: notReady }]));
      }
      if (path === '/metrics') return void this.#sendMetrics(res, requestId);
      if (wantsHtml(req.headers.accept)) return sendHtml(res, DASHBOARD_HTML, requestId);
      return this.#answer(res, requestId, Promise.all(backend.gates.map((g) => backend.summary(g.id))).then((apis) => [200, { apis }]));
    }
    if (isAdminPath(path)) return this.#admin(req, res, path, requestId);
    const status = statusRoute(path);
    if (status !== null) {
      if (!reading) return sendJson(res, 405, { error: `method ${method} is not allowed on ${path}: use GET` }, requestId, { allow: 'GET, HEAD, OPTIONS' });
      return this.#status(res, requestId, status, query);
    }
    sendJson(res, 404, { error: `no API at ${path}`, endpoints: backend.gates.map((g) => g.endpoint) }, requestId);
  }

  #status(res: ServerResponse, requestId: string, route: StatusRoute, query: string): void {
    const backend = this.#backend;
    if (route.kind === 'apis') {
      const each = intParam(query, 'series', 0) === 1 ? (i: number) => backend.history(i) : (i: number) => backend.summary(i);
      return this.#answer(res, requestId, Promise.all(backend.gates.map((g) => each(g.id))).then((apis) => [200, { apis }]));
    }
    const gate = this.#byName.get(route.name)?.id;
    if (gate === undefined) {
      return sendJson(res, 404, { error: `no API named "${route.name}"`, apis: backend.gates.map((g) => g.name) }, requestId);
    }
    switch (route.view) {
      case 'summary':
        return this.#answer(res, requestId, backend.summary(gate, true).then((s) => [200, s]));
      case 'autoscaler':
        return this.#answer(res, requestId, backend.autoscaler(gate).then((a) => [200, a]));
      case 'logs': {
        const limit = Math.min(intParam(query, 'limit', MAX_LOG_LINES), MAX_LOG_LINES);
        return this.#answer(res, requestId, backend.logs(gate, intParam(query, 'after', 0), limit).then((l) => [200, l]));
      }
    }
  }

  /** A status answer that the backend may have to fetch from another thread. */
  #answer(res: ServerResponse, requestId: string, answer: Promise<[number, unknown]>): void {
    answer.then(
      ([status, body]) => sendJson(res, status, body, requestId),
      (err: unknown) => sendJson(res, 500, { error: `could not read the server's state: ${(err as Error).message}` }, requestId),
    );
  }

  /** A 503 of an API, counted by its reason for /metrics and for the log's summary. */
  #refuse(route: Route, res: ServerResponse, callerId: string | undefined, cors: boolean, why: RefusedFor): void {
    const prefix = why === RefusedFor.QueuedBytes ? route.overQueuedBytes : route.refusal.prefix(why === RefusedFor.Closing);
    // At capacity, with no ready replica or with a failing __init__: the refusal has just told which.
    route.gate.refusals.count(why === RefusedFor.Capacity ? route.refusal.reason : why);
    sendRefusal(res, prefix, callerId ?? newRequestId(), callerId, cors);
  }

  #predict(route: Route, req: IncomingMessage, res: ServerResponse, query: string, callerId: string | undefined, headers: IncomingHttpHeaders): void {
    this.seen++;
    const cors = wantsCors(headers);
    const gate = route.gate;
    const index = gate.id;
    // The overload path: as little work as the answer allows (refusal.ts,
    // sendRefusal). The body is not read; node:http discards it after the
    // answer (req._dump), so the connection stays usable for the next request.
    if (this.#closing) return this.#refuse(route, res, callerId, cors, RefusedFor.Closing);
    if (gate.inFlight >= gate.capacity) return this.#refuse(route, res, callerId, cors, RefusedFor.Capacity);
    const requestId = callerId ?? newRequestId();
    const api = gate.name;
    const budget = this.#queuedBytes;
    const declared = Number(headers['content-length']);
    if (declared > this.#maxBody) return this.#endEarly(res, index, 413, `request body is larger than the limit of ${this.#maxBody} bytes (--max-body)`, api, requestId);
    // Bytes held for this request: all of a declared length at once, else chunk by chunk.
    let held = 0;
    if (declared > 0) {
      if (!budget.tryTake(declared)) return this.#refuse(route, res, callerId, cors, RefusedFor.QueuedBytes);
      held = declared;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let reading = true;
    let ticket: Ticket | null = null;
    const expire = () => {
      if (!reading) return;
      reading = false;
      const of = declared >= 0 ? ` of ${declared}` : '';
      this.#endEarly(res, index, 408, `the request body did not arrive within ${this.#deadlines.timeoutMs / 1000} s (--body-timeout): ${size}${of} bytes came`, api, requestId);
    };
    const deadline = this.#deadlines.start(expire);
    const stopReading = () => {
      reading = false;
      this.#deadlines.done(deadline);
    };
    // A response emits 'close' once: `on` spares the wrapper and the removal `once` costs.
    res.on('close', () => {
      stopReading();
      budget.give(held);
      held = 0;
      if (ticket !== null && !res.writableFinished) ticket.abandon();
    });
    if (this.#expectsContinue.has(req)) res.writeContinue();
    readBody(req, (chunk) => {
      if (!reading) return true;
      if (chunk === null) {
        stopReading();
        ticket = this.#admit(route, res, callerId, cors, requestId, chunks.length === 1 ? chunks[0] : chunks, query);
        return true;
      }
      size += chunk.length;
      if (size > this.#maxBody) {
        stopReading();
        this.#endEarly(res, index, 413, `request body is larger than the limit of ${this.#maxBody} bytes (--max-body)`, api, requestId);
        return true;
      }
      if (size > held) {
        if (!budget.tryTake(size - held)) {
          stopReading();
          res.shouldKeepAlive = false;
          lingerOnClose(res.socket);
          this.#refuse(route, res, callerId, cors, RefusedFor.QueuedBytes);
          return true;
        }
        held = size;
      }
      chunks.push(chunk);
      return true;
    });
  }

  /** A prediction request whose body has arrived: admitted and dispatched, or refused (null). */
  #admit(route: Route, res: ServerResponse, callerId: string | undefined, cors: boolean, requestId: string, body: Bytes, query: string): Ticket | null {
    if (this.#closing) {
      this.#refuse(route, res, callerId, cors, RefusedFor.Closing);
      return null;
    }
    const gate = route.gate;
    if (!gate.tryAdmit()) {
      this.#refuse(route, res, callerId, cors, RefusedFor.Capacity);
      return null;
    }
    const started = performance.now();
    const api = gate.name;
    const index = gate.id;
    const backend = this.#backend;
    const debug = wantsDebug(query);
    if (debug) backend.log(`[${api}] request ${forLog(requestId)} payload: ${forLog(joined(body).toString('utf8'))}`);
    const finish = (status: number, at: number) => backend.answered(index, status, (at - started) / 1000);
    return gate.dispatch({
      body,
      queuedAt: started,
      reply: (reply: Reply, at: number) => {
        switch (reply.kind) {
          case 'prediction':
            if (debug) backend.log(`[${api}] request ${forLog(requestId)} prediction: ${forLog(joined(reply.body).toString('utf8'))}`);
            sendRaw(res, 200, reply.contentType, reply.body, requestId, cors);
            return finish(200, at);
          case 'bad-request':
            sendJson(res, 400, { error: reply.message, api, request_id: requestId }, requestId);
            return finish(400, at);
          case 'predict-error':
            backend.log(`[${api}] request ${forLog(requestId)} failed in predict():\n${reply.traceback.trimEnd()}`);
            sendJson(res, 500, { error: reply.error, api, request_id: requestId }, requestId);
            return finish(500, at);
          case 'worker-crashed':
            sendJson(res, 502, { error: reply.message, code: reply.code, api, request_id: requestId }, requestId);
            return finish(502, at);
          case 'timed-out':
            sendJson(res, 504, { error: reply.message, code: reply.code, api, request_id: requestId }, requestId);
            return finish(504, at);
          case 'unavailable':
            sendJson(res, 503, { error: reply.message, api, request_id: requestId }, requestId);
            return finish(503, at);
        }
      },
    });
  }

  /**
   * An answer before the body is all read (413, 408): the rest of it is not
   * read, so the connection closes after the answer, but not at once (see
   * lingerOnClose).
   */
  #endEarly(res: ServerResponse, gate: number, status: 413 | 408, error: string, api: string, requestId: string): void {
    this.#backend.answered(gate, status, null);
    res.shouldKeepAlive = false;
    lingerOnClose(res.socket);
    sendJson(res, status, { error, api, request_id: requestId }, requestId, { connection: 'close' });
  }

  /**
   * POST /_cortex-local/…: deploy, refresh, delete (admin.ts). Past the
   * --api-key check already; without a key, from loopback only.
   */
  #admin(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): void {
    if (req.method !== 'POST') return sendJson(res, 405, { error: `method ${req.method} is not allowed on ${path}: use POST` }, requestId, { allow: 'POST, OPTIONS' });
    if (this.#apiKey === null && !isLoopbackAddress(req.socket.remoteAddress)) {
      const error = 'admin requests are taken from this machine only (loopback): start the server with --api-key to take them, with the key, from elsewhere';
      return sendJson(res, 403, { error }, requestId);
    }
    if (this.#closing) return sendJson(res, 503, { error: 'the server is shutting down' }, requestId);
    if (Number(req.headers['content-length']) > MAX_ADMIN_BODY) {
      res.shouldKeepAlive = false;
      lingerOnClose(res.socket);
      return sendJson(res, 413, { error: `an admin request's body may be at most ${MAX_ADMIN_BODY} bytes` }, requestId, { connection: 'close' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let reading = true;
    req.on('data', (chunk: Buffer) => {
      if (!reading) return;
      size += chunk.length;
      if (size > MAX_ADMIN_BODY) {
        reading = false;
        res.shouldKeepAlive = false;
        lingerOnClose(res.socket);
        sendJson(res, 413, { error: `an admin request's body may be at most ${MAX_ADMIN_BODY} bytes` }, requestId, { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!reading) return;
      const parsed = parseAdminRequest(path, Buffer.concat(chunks, size));
      if (isAdminAnswer(parsed)) return sendJson(res, parsed.status, parsed.body, requestId);
      this.#backend.admin(parsed).then(
        (answer) => sendJson(res, answer.status, answer.body, requestId),
        (err: unknown) => sendJson(res, 500, { error: `the ${parsed.action} failed: ${(err as Error).message}` }, requestId),
      );
    });
  }

  #preflight(res: ServerResponse, requestId: string): void {
    res.writeHead(204, { ...PREFLIGHT_HEADERS, 'x-request-id': requestId });
    res.end();
  }

  async #sendMetrics(res: ServerResponse, requestId: string): Promise<void> {
    try {
      const { contentType, text } = await this.#backend.metrics();
      res.writeHead(200, { ...(wantsCors(res.req.headers) ? CORS_HEADERS : undefined), 'x-request-id': requestId, 'content-type': contentType });
      res.end(text);
    } catch (err) {
      sendJson(res, 500, { error: `could not collect the metrics: ${(err as Error).message}` }, requestId);
    }
  }
}

/** A request line starting with a well-formed method name (RFC 9110 token) that node:http does not know: a 501, where garbage is a 400. */
function isMethodToken(err: NodeJS.ErrnoException): boolean {
  const raw = (err as NodeJS.ErrnoException & { rawPacket?: Buffer }).rawPacket;
  return raw !== undefined && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \//.test(raw.subarray(0, 64).toString('latin1'));
}

function requestIdOf(req: IncomingMessage): string {
  return (req.headers['x-request-id'] as string | undefined) ?? newRequestId();
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
