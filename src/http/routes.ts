// Maps a request path to an API. Endpoints are canonical (leading '/', no
// trailing '/'); a request for `/iris/` reaches `/iris` as in Cortex.
import { ADMIN_PREFIX, isAdminPath } from './admin.ts';

/** The server's own routes, by path: an API endpoint on one of them would hide it (cortex.yaml refuses them). */
export const BUILT_IN_ROUTES: ReadonlyMap<string, string> = new Map([
  ['/', 'GET / (every API\'s status)'],
  ['/healthz', 'GET /healthz (process alive)'],
  ['/readyz', 'GET /readyz (every API ready)'],
  ['/metrics', 'GET /metrics (Prometheus metrics)'],
]);

const STATUS_ROUTES = 'GET /apis/… (the status routes: /apis, /apis/NAME, /apis/NAME/autoscaler, /apis/NAME/logs)';
const ADMIN_ROUTES = `POST ${ADMIN_PREFIX}/… (deploy, refresh and delete requests)`;

/** What the server itself serves at `path`, if anything: an API endpoint there would hide it or be hidden (cortex.yaml refuses it). */
export function reservedRoute(path: string): string | undefined {
  if (isAdminPath(path)) return ADMIN_ROUTES;
  return BUILT_IN_ROUTES.get(path) ?? (path === '/apis' || path.startsWith('/apis/') ? STATUS_ROUTES : undefined);
}

export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { path, query: q === -1 ? '' : url.slice(q + 1) };
}

export function wantsDebug(query: string): boolean {
  if (query === '') return false;
  const v = new URLSearchParams(query).get('debug');
  return v !== null && v.toLowerCase() === 'true';
}

/** The server's status routes beside the APIs' own endpoints. */
export type StatusRoute = { kind: 'apis' } | { kind: 'api'; name: string; view: 'summary' | 'autoscaler' | 'logs' };

export function statusRoute(path: string): StatusRoute | null {
  if (path === '/apis') return { kind: 'apis' };
  if (!path.startsWith('/apis/')) return null;
  const [name, view, ...rest] = path.slice('/apis/'.length).split('/');
  if (name === '' || rest.length > 0) return null;
  if (view === undefined) return { kind: 'api', name, view: 'summary' };
  if (view === 'autoscaler' || view === 'logs') return { kind: 'api', name, view };
  return null;
}

/** Whether a client asked for HTML first (a browser), rather than JSON (curl, the CLI). */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/** A non-negative integer query parameter, or the default when absent or malformed. */
export function intParam(query: string, name: string, fallback: number): number {
  const raw = new URLSearchParams(query).get(name);
  if (raw === null || !/^\d+$/.test(raw)) return fallback;
  return Number(raw);
}
