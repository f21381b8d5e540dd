// What every client command (get, and those to come: logs, predict) shares:
// where the server is, the API key it may need (--api-key or
// $CORTEX_LOCAL_API_KEY), and what its answers mean for the user.
import { request } from 'undici';
import { ApiKeyRefusedError, UsageError } from '../errors.ts';

export const API_KEY_ENV = 'CORTEX_LOCAL_API_KEY';

/** parseArgs options of every client command */
export const CLIENT_OPTIONS = {
  port: { type: 'string', default: '8888' },
  host: { type: 'string', default: '127.0.0.1' },
  'api-key': { type: 'string' },
} as const;

export const CLIENT_HELP = `  --port N       the server's port (default 8888)
  --host H       the server's address (default 127.0.0.1)
  --api-key KEY  the key the server was started with (serve --api-key); default $${API_KEY_ENV}`;

export interface Server {
  base: string;
  apiKey: string | undefined;
}

export function serverOf(values: { port: string; host: string; 'api-key'?: string }, env: NodeJS.ProcessEnv = process.env): Server {
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  const apiKey = values['api-key'] ?? (env[API_KEY_ENV] || undefined);
  return { base: `http://${host}:${values.port}`, apiKey };
}

/** GET `path` of the server as JSON; a refused key, no server, or another program answering are errors that say what to do. */
export async function getJson(server: Server, path: string): Promise<unknown> {
  const headers: Record<string, string> = server.apiKey === undefined ? {} : { authorization: `Bearer ${server.apiKey}` };
  let res;
  try {
    res = await request(`${server.base}${path}`, { headers });
  } catch (err) {
    throw new UsageError(`no cortex-local server answers at ${server.base} (${(err as Error).message}); start one with 'cortex-local serve'`);
  }
  if (res.statusCode === 401) {
    await res.body.dump();
    throw new ApiKeyRefusedError(server.base, server.apiKey !== undefined);
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.statusCode !== 200 || body === undefined) {
    const error = (body as { error?: unknown } | undefined)?.error;
    throw new UsageError(`the server at ${server.base} answered ${res.statusCode}${typeof error === 'string' ? `: ${error}` : ''}; is it cortex-local?`);
  }
  return body;
}
