// The front door: one node:http server for every API. Admission happens
// before the body is read, so an over-capacity request is refused at once.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WorkerCrashedError } from '../errors.ts';
import type { Metrics, Tally } from '../metrics/registry.ts';
import type { ApiPool } from '../pool/api-pool.ts';
import { Kind } from '../python-bridge/frames.ts';
import { Refusal } from './refusal.ts';
import { CORS_HEADERS, sendJson, sendRaw, sendRefusal, truncate } from './responses.ts';
import { splitUrl, wantsDebug } from './routes.ts';

export const DEFAULT_MAX_BODY = 10 * 1024 * 1024;

/** How long a connection answered early (413) keeps reading its client's upload before it closes. */
export const LINGER_MS = 2_000;

const GET_MESSAGE = 'make a prediction by sending a post request to this endpoint with a json payload';

export interface FrontDoorOptions {
  pools: ApiPool[];
  metrics: Metrics;
  maxBody?: number;
  /** when set, every request but /healthz must carry `Authorization: Bearer KEY` */
  apiKey?: string;
  log: (line: string) => void;
}

/** An API as the front door sees it: its pool and what its refusals need at hand. */
interface Route {
  pool: ApiPool;
  refusal: Refusal;
  /** cortex_local_requests_total{code="503"} of the API */
  refused: Tally;
}

export class FrontDoor {
  readonly server: Server;
  readonly #byEndpoint = new Map<string, Route>();
  readonly #pools: ApiPool[];
  readonly #metrics: Metrics;
  readonly #maxBody: number;
  readonly #apiKey: string | undefined;
  readonly #log: (line: string) => void;
  #closing = false;

  constructor(opts: FrontDoorOptions) {
    this.#pools = opts.pools;
    this.#metrics = opts.metrics;
    for (const p of opts.pools) this.#byEndpoint.set(p.api.endpoint, { pool: p, refusal: new Refusal(p), refused: opts.metrics.tally(p.api.name, 503) });
    this.#maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    this.#apiKey = opts.apiKey;
    this.#log = opts.log;
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

  /** Stop admitting: new prediction requests get 503 and connections close after their answer. */
  beginShutdown(): void {
    this.#closing = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const { path, query } = splitUrl(req.url ?? '/');
    if (this.#closing) res.shouldKeepAlive = false;
    if (this.#apiKey !== undefined && path !== '/healthz' && req.headers.authorization !== `Bearer ${this.#apiKey}`) {
      sendJson(res, 401, { error: 'missing or wrong API key: send "Authorization: Bearer <key>"' });
      return;
    }
    const route = this.#byEndpoint.get(path);
    if (route !== undefined) {
      const pool = route.pool;
      if (req.method === 'POST') return this.#predict(route, req, res, query);
      if (req.method === 'GET') return sendJson(res, 200, { message: GET_MESSAGE, ...this.#summary(pool) });
      if (req.method === 'OPTIONS') return this.#preflight(res);
      return sendJson(res, 405, { error: `method ${req.method} is not allowed on ${path}: use POST`, api: pool.api.name }, { allow: 'GET, POST, OPTIONS' });
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/healthz') return sendJson(res, 200, { ok: true });
      if (path === '/readyz') {
        const notReady = this.#pools.filter((p) => p.readyReplicas === 0).map((p) => p.api.name);
        return sendJson(res, notReady.length === 0 ? 200 : 503, { ready: notReady.length === 0, not_ready: notReady });
      }
      if (path === '/metrics') return void this.#sendMetrics(res);
      if (path === '/') return sendJson(res, 200, { apis: this.#pools.map((p) => this.#summary(p)) });
    }
    if (req.method === 'OPTIONS') return this.#preflight(res);
    sendJson(res, 404, {
      error: `no API at ${path}`,
      endpoints: this.#pools.map((p) => p.api.endpoint),
    });
  }

  #predict(route: Route, req: IncomingMessage, res: ServerResponse, query: string): void {
    const pool = route.pool;
    const callerId = req.headers['x-request-id'] as string | undefined;
    if (this.#closing || !pool.tryAdmit()) {
      // The overload path: as little work as the answer allows (refusal.ts,
      // sendRefusal). The body is not read; node:http discards it after the
      // answer (req._dump), so the connection stays usable for the next request.
      route.refused.n++;
      sendRefusal(res, route.refusal.prefix(this.#closing), callerId ?? randomUUID(), callerId);
      return;
    }
    const api = pool.api.name;
    const requestId = callerId ?? randomUUID();
    const started = performance.now();
    const declared = Number(req.headers['content-length']);
    if (declared > this.#maxBody) {
      pool.release();
      this.#tooLarge(res, api, requestId);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = () => {
      if (done) return;
      done = true;
      pool.release();
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > this.#maxBody) {
        fail();
        this.#tooLarge(res, api, requestId);
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
      if (debug) this.#log(`[${api}] request ${requestId} payload: ${truncate(body.toString('utf8'))}`);
      const finish = (status: number) => this.#metrics.request(api, status, (performance.now() - started) / 1000);
      const job = {
        body,
        cancelled: false,
        settle: (kind: number, payload: Buffer) => {
          if (debug) this.#log(`[${api}] request ${requestId} prediction: ${truncate(payload.toString('utf8'))}`);
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
              this.#log(`[${api}] request ${requestId} failed in predict():\n${traceback.trimEnd()}`);
              sendJson(res, 500, { error, api, request_id: requestId }, { 'x-request-id': requestId });
              return finish(500);
            }
          }
        },
        crash: (error: WorkerCrashedError) => {
          sendJson(res, 502, { error: error.message, code: error.code, api, request_id: requestId }, { 'x-request-id': requestId });
          finish(502);
        },
      };
      res.once('close', () => {
        if (!res.writableFinished) job.cancelled = true;
      });
      pool.dispatch(job);
    });
  }

  #tooLarge(res: ServerResponse, api: string, requestId: string): void {
    this.#metrics.request(api, 413, null);
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

  #summary(pool: ApiPool): Record<string, unknown> {
    const s = pool.status();
    // Between retries of a failing __init__ the replica is 'starting'; until
    // one succeeds the API is still in error, with the traceback to show.
    return {
      api: s.name,
      endpoint: s.endpoint,
      status: s.replicas.ready > 0 ? 'live' : s.replicas.failed > 0 || pool.initError !== null ? 'error' : 'updating',
      desired_replicas: s.desired_replicas,
      replicas: s.replicas,
      in_flight: s.in_flight,
      last_error: s.last_error,
      detail: s.detail,
    };
  }

  async #sendMetrics(res: ServerResponse): Promise<void> {
    const text = await this.#metrics.registry.metrics();
    res.writeHead(200, { 'content-type': this.#metrics.registry.contentType });
    res.end(text);
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
