// A prediction request as the front door hands it to the pool, and the ticket
// it gets back.
import type { Bytes } from '../bytes.ts';
import type { Reply } from './reply.ts';

export interface Job {
  /** as it arrived: in the chunks it was read in, not joined (src/bytes.ts) */
  readonly body: Bytes;
  /** performance.now() when it was admitted: the front door's one clock reading for it */
  readonly queuedAt: number;
  /**
   * The answer; called exactly once, unless the job was abandoned first.
   * `at`: performance.now() when it came (read once for all the answers of
   * one read of a worker's pipe).
   */
  reply(reply: Reply, at: number): void;
}

export interface Ticket {
  /**
   * The client went away before its answer. A job still waiting (in the API's
   * queue, or sent to a worker that has not started it) frees its admission
   * slot at once; one already executing keeps it until it ends (or reaches
   * --predict-timeout) and is counted as abandoned.
   */
  abandon(): void;
}
