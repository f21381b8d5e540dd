// Answers of the front door. Each carries the request's X-Request-Id. An
// answer to a request that carried an Origin header (what a browser sends
// with a request from another page) also carries CORS headers: any origin,
// as in Cortex, and the request id exposed to the page's scripts. Cortex's
// CORS middleware (Starlette's CORSMiddleware) answered only such requests
// so; answering curl and SDK clients without them spares node:http two
// headers per answer (≈ 0.3 µs of the main thread, bench/results/perf-findings.md §1).
// A CORS preflight gets the methods and the headers a page may send:
// Authorization among them by name, as a wildcard does not cover it.
import { Buffer } from 'node:buffer';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { byteLength, isParts, joined, type Bytes } from '../bytes.ts';

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-request-id, retry-after',
} as const;

export const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, x-request-id',
  'access-control-max-age': '86400',
} as const;

/** Whether a request with these headers gets CORS headers in its answer: it carried an Origin. */
export function wantsCors(headers: IncomingHttpHeaders): boolean {
  return headers.origin !== undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...(wantsCors(res.req.headers) ? CORS_HEADERS : undefined),
    ...extra,
    'x-request-id': requestId,
    'content-type': 'application/json',
    'content-length': data.length,
  });
  res.end(data);
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The 503 of an API that admits no more requests, made for the overload path:
 * `prefix` is the cached answer up to its request id (`{"error":…,"api":…,"request_id":`,
 * see Refusal in refusal.ts) and the id is spliced in, so the only per-request
 * work is one concatenation. The body goes to node:http as a string, which it
 * joins to the head and writes in one `write` (a Buffer takes a writev of two).
 * `callerId`: the client's own x-request-id, escaped with JSON.stringify; an
 * id of ours (a UUID) needs no escaping.
 * `cors`: the request carried an Origin header (read once by the caller, as
 * node:http builds req.headers behind a getter).
 */
export function sendRefusal(res: ServerResponse, prefix: string, requestId: string, callerId: string | undefined, cors: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const body = callerId === undefined ? `${prefix}"${requestId}"}` : `${prefix}${JSON.stringify(callerId)}}`;
  const length = Buffer.byteLength(body);
  if (cors) {
    res.writeHead(503, {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-request-id, retry-after',
      'retry-after': '1',
      'x-request-id': requestId,
      'content-type': 'application/json',
      'content-length': length,
    });
  } else {
    res.writeHead(503, { 'retry-after': '1', 'x-request-id': requestId, 'content-type': 'application/json', 'content-length': length });
  }
  // node:http writes a string body together with the head in UTF-8, which
  // would re-encode a header byte ≥ 0x80 that a client sent (node:http reads
  // header values as latin1); such an id goes out as it came, head apart.
  res.end(callerId !== undefined && NON_ASCII.test(callerId) ? Buffer.from(body) : body);
}

/**
 * Bodies up to this size go to node:http as a latin1 string (the same bytes):
 * it writes a string body with the head in one write, where a Buffer takes a
 * writev of two (hello, 64 connections: +1 to +9 % req/s). A bigger one would
 * be copied twice to save that (bare node:http with a 16 kB answer: −10 to −30 %).
 */
const WITH_HEAD_MAX = 1024;

/**
 * Ends an answer whose head is written with `data` as its body `length`
 * bytes long, short bodies as a string (above), one in parts part by part,
 * all in one write of the socket.
 */
export function endWithBody(res: ServerResponse, data: Bytes, length = byteLength(data)): void {
  if (length <= WITH_HEAD_MAX) {
    res.end(joined(data).toString('latin1'), 'latin1');
  } else if (!isParts(data)) {
    res.end(data);
  } else {
    res.cork();
    for (let i = 0; i < data.length - 1; i++) res.write(data[i]);
    res.end(data[data.length - 1]);
    res.uncork();
  }
}

/** A prediction: `data` as predict() gave it; `cors` as for sendRefusal. */
export function sendRaw(res: ServerResponse, status: number, contentType: string, data: Bytes, requestId: string, cors: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const length = byteLength(data);
  // As a flat list: node:http walks an object's keys and checks each is its own.
  if (cors) {
    res.writeHead(status, [
      'access-control-allow-origin', '*',
      'access-control-expose-headers', 'x-request-id, retry-after',
      'content-type', contentType,
      'content-length', length,
      'x-request-id', requestId,
    ]);
  } else {
    res.writeHead(status, ['content-type', contentType, 'content-length', length, 'x-request-id', requestId]);
  }
  endWithBody(res, data, length);
}

/**
 * A whole HTTP/1.1 answer as bytes, for a socket node:http gave up parsing
 * (it has no ServerResponse); the connection closes after it. `cors`: the
 * request carried an Origin header; where its headers are unknown (a request
 * that could not be parsed), the answer carries CORS headers in case it did.
 */
export function rawAnswer(status: number, reason: string, body: unknown, requestId: string, extra: Record<string, string> = {}, cors = true): string {
  const text = JSON.stringify(body);
  const headers = { ...(cors ? CORS_HEADERS : undefined), ...extra, 'x-request-id': requestId };
  const head = [`HTTP/1.1 ${status} ${reason}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  head.push('content-type: application/json', `content-length: ${Buffer.byteLength(text)}`, 'connection: close');
  return `${head.join('\r\n')}\r\n\r\n${text}`;
}

/** A page of the server's own (the dashboard): no script or style from anywhere else may run in it. */
export function sendHtml(res: ServerResponse, page: Buffer, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': page.length,
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
  });
  res.end(page);
}
