// Maps a request path to an API. Endpoints are canonical (leading '/', no
// trailing '/'); a request for `/iris/` reaches `/iris` as in Cortex.

/** The server's own routes, by path: an API endpoint on one of them would hide it (cortex.yaml refuses them). */
export const BUILT_IN_ROUTES: ReadonlyMap<string, string> = new Map([
  ['/', 'GET / (every API\'s status)'],
  ['/healthz', 'GET /healthz (process alive)'],
  ['/readyz', 'GET /readyz (every API ready)'],
  ['/metrics', 'GET /metrics (Prometheus metrics)'],
]);

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
