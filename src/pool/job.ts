// A prediction request once admitted: what the pool moves between the API
// queue and workers until it is settled exactly once.
import type { WorkerCrashedError } from '../errors.ts';

/** What a 502 tells of a crash: a WorkerCrashedError, or its message and code sent from another thread. */
export type CrashReport = Pick<WorkerCrashedError, 'message' | 'code'>;

export interface Job {
  readonly body: Buffer;
  /** set by the front door when the client went away before an answer */
  cancelled: boolean;
  /** performance.now() of the main thread when the pool got the job, and when a worker did (set by the pool; 0 before) */
  queuedAt: number;
  sentAt: number;
  /** a reply frame from the worker (kind from python-bridge/frames.ts) */
  settle(kind: number, payload: Buffer): void;
  /** the worker died while this job may have been executing */
  crash(error: CrashReport): void;
}
