// JSON answers of the front door, with the headers every answer carries.
import type { ServerResponse } from 'node:http';

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': '*',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...CORS_HEADERS,
    ...extra,
    'content-type': 'application/json',
    'content-length': data.length,
  });
  res.end(data);
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The 503 of an API that admits no more requests, made for the overload path:
 * `prefix` is the cached answer up to its request id (`{"error":…,"api":…,"request_id":`,
 * see Refusal in server.ts) and the id is spliced in, so the only per-request
 * work is one concatenation. The body goes to node:http as a string, which it
 * joins to the head and writes in one `write` (a Buffer takes a writev of two).
 * `callerId`: the client's own x-request-id, escaped with JSON.stringify; an
 * id of ours (a UUID) needs no escaping.
 */
export function sendRefusal(res: ServerResponse, prefix: string, requestId: string, callerId: string | undefined): void {
  if (res.headersSent || res.destroyed) return;
  const body = callerId === undefined ? `${prefix}"${requestId}"}` : `${prefix}${JSON.stringify(callerId)}}`;
  res.writeHead(503, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': '*',
    'retry-after': '1',
    'x-request-id': requestId,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  // node:http writes a string body together with the head in UTF-8, which
  // would re-encode a header byte ≥ 0x80 that a client sent (node:http reads
  // header values as latin1); such an id goes out as it came, head apart.
  res.end(callerId !== undefined && NON_ASCII.test(callerId) ? Buffer.from(body) : body);
}

export function sendRaw(res: ServerResponse, status: number, contentType: string, data: Buffer, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'access-control-allow-origin': '*',
    'content-type': contentType,
    'content-length': data.length,
    'x-request-id': requestId,
  });
  res.end(data);
}

/** A page of the server's own (the dashboard): no script or style from anywhere else may run in it. */
export function sendHtml(res: ServerResponse, page: Buffer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': page.length,
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    'x-content-type-options': 'nosniff',
  });
  res.end(page);
}

export function truncate(text: string, max = 10_000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
