// What the pool answers a request with, in its own terms: the front door
// turns a Reply into HTTP and never sees the worker protocol's frame kinds.
import type { Bytes } from '../bytes.ts';

export type Reply =
  /** predict() returned: JSON, or raw bytes when it returned bytes */
  | { kind: 'prediction'; contentType: 'application/json' | 'application/octet-stream'; body: Bytes }
  /** the body is empty or not JSON (400) */
  | { kind: 'bad-request'; message: string }
  /** predict() raised, or returned something that cannot be serialized (500) */
  | { kind: 'predict-error'; error: string; traceback: string }
  /** the worker died while running the request (502) */
  | { kind: 'worker-crashed'; message: string; code: string }
  /** the request ran past --predict-timeout (504) */
  | { kind: 'timed-out'; message: string; code: string }
  /** the server stopped before the request could run (503) */
  | { kind: 'unavailable'; message: string };

