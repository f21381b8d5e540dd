// What every client command (get, logs, predict, deploy, refresh, delete) shares: where the server is
// (--url, or --host and --port), the API key it may need (--api-key or
// $CORTEX_LOCAL_API_KEY), and what its answers mean for the user.
import { Buffer } from 'node:buffer';
import { request } from 'undici';
import { ApiKeyRefusedError, ServerAnswerError, ServerUnreachableError, UsageError } from '../errors.ts';

export const API_KEY_ENV = 'CORTEX_LOCAL_API_KEY';

/** parseArgs options of every client command */
export const CLIENT_OPTIONS = {
  port: { type: 'string', default: '8888' },
  host: { type: 'string', default: '127.0.0.1' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
} as const;

export const CLIENT_HELP = `  --port N       the server's port (default 8888)
  --host H       the server's address (default 127.0.0.1)
  --url URL      the server's address as a URL, e.g. http://10.0.0.5:8888 (instead of --host and --port)
  --api-key KEY  the key the server was started with (serve --api-key); default $${API_KEY_ENV}`;

export interface Server {
  /** `http://host:port`, no trailing slash */
  base: string;
  apiKey: string | undefined;
}

export function serverOf(values: { port: string; host: string; url?: string; 'api-key'?: string }, env: NodeJS.ProcessEnv = process.env): Server {
  const apiKey = values['api-key'] ?? (env[API_KEY_ENV] || undefined);
  if (values.url !== undefined) {
    let url: URL;
    try {
      url = new URL(values.url);
    } catch {
      throw new UsageError(`--url must be a URL such as http://127.0.0.1:8888 (got "${values.url}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// URL (got "${values.url}")`);
    return { base: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, apiKey };
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port must be an integer from 1 to 65535, got "${values.port}"`);
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  return { base: `http://${host}:${port}`, apiKey };
}

export interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Sends one request; no server answering and a refused key are errors that say what to do. */
export async function call(server: Server, method: 'GET' | 'POST', path: string, body?: Buffer): Promise<Answer> {
  const headers: Record<string, string> = server.apiKey === undefined ? {} : { authorization: `Bearer ${server.apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await request(`${server.base}${path}`, { method, headers, body });
  } catch (err) {
    throw new ServerUnreachableError(server.base, { cause: err });
  }
  if (res.statusCode === 401) {
    await res.body.dump();
    throw new ApiKeyRefusedError(server.base, server.apiKey !== undefined);
  }
  const data = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: data };
}

/** GET `path` of the server as JSON. */
export async function getJson(server: Server, path: string): Promise<unknown> {
  const answer = await call(server, 'GET', path);
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new ServerAnswerError(`the server at ${server.base} answered GET ${path} with something else than JSON (HTTP ${answer.status}); is it cortex-local?`, answer.status);
  }
  if (answer.status !== 200) {
    const { error, apis } = (body ?? {}) as { error?: unknown; apis?: unknown };
    const known = Array.isArray(apis) && apis.every((a) => typeof a === 'string') ? `; this server has: ${apis.join(', ') || 'no API'}` : '';
    throw new ServerAnswerError(`the server at ${server.base} answered ${answer.status}${typeof error === 'string' ? `: ${error}` : ''}${known}`, answer.status);
  }
  return body;
}

/**
 * Runs `step` every `ms` (counted from the end of the previous one) until
 * Ctrl-C or SIGTERM, then resolves 0; a step that throws ends it with that
 * error. `step` is told whether a signal came while it ran, so it can skip
 * printing over the shell prompt.
 */
export function repeatUntilSignal(ms: number, first: 'now' | 'after-ms', step: (stopped: () => boolean) => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const end = () => {
      stopped = true;
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    const stop = () => {
      end();
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const run = () => {
      step(() => stopped).then(
        () => {
          if (!stopped) timer = setTimeout(run, ms);
        },
        (err: unknown) => {
          end();
          reject(err);
        },
      );
    };
    if (first === 'now') run();
    else timer = setTimeout(run, ms);
  });
}

/** The answer to an admin request (deploy, refresh, delete): its status and JSON body. */
export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

/** POST `fields` as JSON to the admin route `path` (http/admin.ts); whatever the status, the answer must be a JSON object. */
export async function postAdmin(server: Server, path: string, fields: Record<string, unknown>): Promise<AdminReply> {
  const answer = await call(server, 'POST', path, Buffer.from(JSON.stringify(fields)));
  let body: unknown;
  try {
    body = JSON.parse(answer.body.toString('utf8'));
  } catch {
    body = undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ServerAnswerError(`the server at ${server.base} answered POST ${path} with something else than a JSON object (HTTP ${answer.status}); is it cortex-local?`, answer.status);
  }
  return { status: answer.status, body: body as Record<string, unknown> };
}
