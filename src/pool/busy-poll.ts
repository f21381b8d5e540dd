// Which workers may look for their next request before they block in read().
//
// A worker blocked in read() is woken by the kernel, often on another CPU than
// Node's; on a virtual machine that wake-up costs tens of microseconds each
// time (bench/wakeup.py), and a client that sends its next request as soon as
// it has the answer pays it on every request: at one connection, hello's p50
// was 112-156 µs with the worker blocking and 53-59 µs with it looking first
// (bench/results/perf-findings.md §2). Looking keeps a CPU busy, so it is only
// allowed while every worker can have a CPU of its own and one is left for
// Node: with more workers than that, a worker looking would take the CPU that
// Node, or another worker, needs (measured: 4 workers on 2 CPUs at 4
// connections, p99 0.9 -> 4-15 ms). The worker itself looks only while its
// requests come close together and one at a time: several to a read come
// from a client with several connections, where looking cost requests/s
// (python/cortex_local_worker/protocol.py).

/** How long a worker looks before it blocks: a round trip to the client and back through Node at one connection took 50-60 µs on a 2-CPU virtual machine. */
export const DEFAULT_BUSY_POLL_US = 100;

/** What the budget tells a worker: look for up to this many microseconds (0: block at once). */
export interface BusyPoller {
  busyPoll(microseconds: number): void;
}

export interface BusyPollOptions {
  /** CPUs the workers may use while Node keeps one (and its front-door threads theirs) */
  spareCpus: number;
  /** how long a worker looks before it blocks; 0 turns looking off (serve --no-busy-poll) */
  microseconds: number;
}

export class BusyPollBudget {
  readonly #spare: number;
  readonly #microseconds: number;
  /** every serving worker, each with whether it may look (one thread) or not (several: looking would take their GIL) */
  readonly #workers = new Map<BusyPoller, boolean>();
  /** the workers told to look */
  readonly #looking = new Set<BusyPoller>();

  constructor(opts: BusyPollOptions) {
    this.#spare = opts.spareCpus;
    this.#microseconds = opts.microseconds;
  }

  /** A worker serves from now on; `canPoll`: it runs one thread. */
  join(worker: BusyPoller, canPoll: boolean): void {
    this.#workers.set(worker, canPoll);
    this.#update();
  }

  /** A worker stops serving (it is stopping, or dead): it is told nothing more. */
  leave(worker: BusyPoller): void {
    if (!this.#workers.delete(worker)) return;
    this.#looking.delete(worker);
    this.#update();
  }

  #update(): void {
    const allowed = this.#microseconds > 0 && this.#workers.size <= this.#spare;
    for (const [worker, canPoll] of this.#workers) {
      if (!canPoll || allowed === this.#looking.has(worker)) continue;
      if (allowed) this.#looking.add(worker);
      else this.#looking.delete(worker);
      worker.busyPoll(allowed ? this.#microseconds : 0);
    }
  }
}
