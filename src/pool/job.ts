// A prediction request as the front door hands it to the pool, and the ticket
// it gets back.
import type { Reply } from './reply.ts';

export interface Job {
  readonly body: Buffer;
  /** The answer; called exactly once, unless the job was abandoned first. */
  reply(reply: Reply): void;
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
