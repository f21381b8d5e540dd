// The admin routes a running server takes from `cortex-local deploy`,
// `refresh` and `delete`: POST /_cortex-local/deploy, /refresh, /delete with
// a small JSON body. They pass the same --api-key check as every route; a
// server without a key takes them from loopback only, so nothing beyond this
// machine can redeploy it even where it listens with --insecure. Parsing and
// the address check are here; the main thread carries the requests out
// (reload/reloader.ts), whichever thread they arrived on.

/** Where the admin routes live: an endpoint under it is refused in cortex.yaml. */
export const ADMIN_PREFIX = '/_cortex-local';

/** An admin request is a few bytes of JSON. */
export const MAX_ADMIN_BODY = 64 * 1024;

export type AdminRequest =
  /** reload cortex.yaml (`path`: another cortex.yaml of the same project folder, absolute; null: the one served) */
  | { action: 'deploy'; path: string | null; force: boolean }
  | { action: 'refresh'; api: string; force: boolean }
  | { action: 'delete'; api: string };

/** The HTTP answer to an admin request. */
export interface AdminAnswer {
  status: number;
  body: Record<string, unknown>;
}

const ACTIONS = ['deploy', 'refresh', 'delete'] as const;

export function isAdminPath(path: string): boolean {
  return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
}

/** The admin request a POST to `path` with `body` asks for, or the 4xx answer saying what is wrong with it. */
export function parseAdminRequest(path: string, body: Buffer): AdminRequest | AdminAnswer {
  const action = path.slice(ADMIN_PREFIX.length + 1);
  if (!(ACTIONS as readonly string[]).includes(action)) {
    return refuse(404, `no admin route ${path}: the server takes POST ${ACTIONS.map((a) => `${ADMIN_PREFIX}/${a}`).join(', ')}`);
  }
  let fields: unknown = {};
  if (body.length > 0) {
    try {
      fields = JSON.parse(body.toString('utf8'));
    } catch (err) {
      return refuse(400, `the body of ${path} is not JSON: ${(err as Error).message}`);
    }
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return refuse(400, `the body of ${path} must be a JSON object`);
  const f = fields as Record<string, unknown>;
  const known = action === 'deploy' ? ['path', 'force'] : action === 'refresh' ? ['api', 'force'] : ['api'];
  const unknown = Object.keys(f).filter((k) => !known.includes(k));
  if (unknown.length > 0) return refuse(400, `${path} takes ${known.map((k) => `"${k}"`).join(' and ')}, not ${unknown.map((k) => `"${k}"`).join(', ')}`);
  if (f.force !== undefined && typeof f.force !== 'boolean') return refuse(400, '"force" must be true or false');
  const force = f.force === true;
  if (action === 'deploy') {
    if (f.path !== undefined && f.path !== null && typeof f.path !== 'string') return refuse(400, '"path" must be the path of a cortex.yaml, or its folder');
    return { action, path: typeof f.path === 'string' ? f.path : null, force };
  }
  if (typeof f.api !== 'string' || f.api === '') return refuse(400, `${path} needs "api": the name of an API`);
  return action === 'refresh' ? { action: 'refresh', api: f.api, force } : { action: 'delete', api: f.api };
}

export function isAdminAnswer(x: AdminRequest | AdminAnswer): x is AdminAnswer {
  return 'status' in x;
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function refuse(status: number, error: string): AdminAnswer {
  return { status, body: { error } };
}
