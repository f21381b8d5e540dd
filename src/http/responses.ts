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

export function truncate(text: string, max = 10_000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
