// The once-a-second summary of an API's 503s (refusal-tally.ts counts them):
// `api iris: 1,284 requests refused in the last 1 s: at capacity 8
// (max_replica_concurrency 4 × 2 ready replicas)`. Pure: the caller ticks it
// every second and logs what it returns.
import { REASONS, RefusedFor, type RefusalTally } from './refusal-tally.ts';

/** What the summary says of an API, read at the tick. */
export interface RefusalSubject {
  readonly refusals: RefusalTally;
  readonly name: string;
  readonly maxReplicaConcurrency: number;
  readonly readyReplicas: number;
  readonly initError: string | null;
}

const count = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${count(Math.round(bytes / 2 ** 20))} MiB`;

export class RefusalLog {
  readonly #maxQueuedBytes: number;
  /** the counts of each API's tally at the last tick */
  readonly #seen = new WeakMap<RefusalTally, number[]>();

  constructor(maxQueuedBytes: number) {
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** One line per API of `apis` (the server's now) that refused requests since the last tick, `seconds` ago. */
  tick(apis: readonly RefusalSubject[], seconds = 1): string[] {
    const lines: string[] = [];
    for (const api of apis) {
      let seen = this.#seen.get(api.refusals);
      if (seen === undefined) {
        seen = Array<number>(REASONS).fill(0);
        this.#seen.set(api.refusals, seen);
      }
      const parts: [number, string][] = [];
      for (const why of [RefusedFor.Capacity, RefusedFor.NoReadyReplica, RefusedFor.InitFailed, RefusedFor.QueuedBytes, RefusedFor.Closing]) {
        const total = api.refusals.read(why);
        const n = total - seen[why];
        seen[why] = total;
        if (n > 0) parts.push([n, this.#reason(api, why)]);
      }
      if (parts.length === 0) continue;
      const n = parts.reduce((sum, [k]) => sum + k, 0);
      const why = parts.length === 1 ? parts[0][1] : parts.map(([k, text]) => `${count(k)}: ${text}`).join('; ');
      lines.push(`api ${api.name}: ${count(n)} request${n === 1 ? '' : 's'} refused in the last ${seconds} s: ${why}`);
    }
    return lines;
  }

  #reason(api: RefusalSubject, why: RefusedFor): string {
    if (why === RefusedFor.Closing) return 'the server is shutting down';
    if (why === RefusedFor.QueuedBytes) return `the bodies of requests not yet answered hold ${mib(this.#maxQueuedBytes)} (--max-queued-bytes)`;
    const summary = api.initError?.trim().split('\n')[0];
    if (why === RefusedFor.NoReadyReplica) return 'no ready replica yet';
    if (why === RefusedFor.InitFailed) return summary ? `its predictor failed to initialize: ${summary}` : 'its predictor failed to initialize';
    const ready = api.readyReplicas;
    if (ready === 0) return summary ? `its predictor failed to initialize: ${summary}` : 'no ready replica yet';
    const s = ready === 1 ? '' : 's';
    return `at capacity ${count(ready * api.maxReplicaConcurrency)} (max_replica_concurrency ${api.maxReplicaConcurrency} × ${ready} ready replica${s})`;
  }
}
