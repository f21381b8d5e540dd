// A job inside the pool, from dispatch to its one answer: where it is, and
// whether its admission slot was already given back.
import { performance } from 'node:perf_hooks';
import type { Job, Ticket } from './job.ts';
import type { Reply } from './reply.ts';

export type TaskState = 'queued' | 'sent' | 'executing' | 'done';

export interface TaskOwner {
  /** the task's admission slot is free again */
  release(task: Task): void;
  /** the task was answered at `at` (performance.now()); the answer may go nowhere: abandoned */
  settled(task: Task, reply: Reply, at: number): void;
  /** the client left; `where`: the task's state when it did */
  abandoned(task: Task, where: TaskState): void;
}

export class Task implements Ticket {
  readonly job: Job;
  state: TaskState = 'queued';
  /** the client left: the answer goes nowhere */
  abandoned = false;
  /** the admission slot was given back (answered, or abandoned before it started) */
  released = false;
  /** order of sending, to requeue unstarted tasks in the order they came */
  seq = 0;
  /** performance.now() when a worker started it (0 until then); the job's queuedAt is when it was admitted */
  startedAt = 0;
  readonly #owner: TaskOwner;

  constructor(job: Job, owner: TaskOwner) {
    this.job = job;
    this.#owner = owner;
  }

  /**
   * The one answer: to the client unless it left; the slot given back either
   * way. `at`: when it came, where the caller has read the clock already.
   */
  settle(reply: Reply, at = performance.now()): void {
    if (this.state === 'done') return;
    this.state = 'done';
    if (!this.abandoned) this.job.reply(reply, at);
    this.#release();
    this.#owner.settled(this, reply, at);
  }

  abandon(): void {
    const where = this.state;
    if (this.abandoned || where === 'done') return;
    this.abandoned = true;
    if (where === 'queued') this.state = 'done';
    if (where !== 'executing') this.#release();
    this.#owner.abandoned(this, where);
  }

  #release(): void {
    if (this.released) return;
    this.released = true;
    this.#owner.release(this);
  }
}
