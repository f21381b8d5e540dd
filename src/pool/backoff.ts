// Restart delays: a worker that was serving restarts at once (gunicorn
// does the same); repeated failures back off exponentially up to a cap.

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1000, capMs: 30_000 };

/** `failures` = consecutive failures before this restart, counting this one. */
export function restartDelayMs(failures: number, opts: BackoffOptions = defaultBackoff): number {
  if (failures <= 1) return 0;
  return Math.min(opts.capMs, opts.baseMs * 2 ** (failures - 2));
}
