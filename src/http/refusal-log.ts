// The once-a-second summary of an API's 503s (refusal-tally.ts counts them):
// `api iris: 1,284 requests refused in the last 1 s: at capacity 8
// (max_replica_concurrency 4 × 2 ready replicas)`. Pure: the caller ticks it
// every second and logs what it returns.
import { REASONS, RefusedFor, type RefusalTally } from './refusal-tally.ts';

/** What the summary says of an API, read at the tick. */
export interface RefusalSubject {
  readonly name: string;
  readonly maxReplicaConcurrency: number;
  readonly readyReplicas: number;
  readonly initError: string | null;
}

const count = (n: number) => n.toLocaleString('en-US');
const mib = (bytes: number) => `${count(Math.round(bytes / 2 ** 20))} MiB`;

export class RefusalLog {
  readonly #tally: RefusalTally;
  readonly #apis: readonly RefusalSubject[];
  readonly #maxQueuedBytes: number;
  readonly #seen: number[];

  constructor(tally: RefusalTally, apis: readonly RefusalSubject[], maxQueuedBytes: number) {
    this.#tally = tally;
    this.#apis = apis;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#seen = Array.from({ length: apis.length * REASONS }, () => 0);
  }

  /** One line per API that refused requests since the last tick, `seconds` ago. */
  tick(seconds = 1): string[] {
    const lines: string[] = [];
    this.#apis.forEach((api, i) => {
      const parts: [number, string][] = [];
      for (const why of [RefusedFor.Capacity, RefusedFor.QueuedBytes, RefusedFor.Closing]) {
        const total = this.#tally.read(i, why);
        const n = total - this.#seen[i * REASONS + why];
        this.#seen[i * REASONS + why] = total;
        if (n > 0) parts.push([n, this.#reason(api, why)]);
      }
      if (parts.length === 0) return;
      const n = parts.reduce((sum, [k]) => sum + k, 0);
      const why = parts.length === 1 ? parts[0][1] : parts.map(([k, text]) => `${count(k)}: ${text}`).join('; ');
      lines.push(`api ${api.name}: ${count(n)} request${n === 1 ? '' : 's'} refused in the last ${seconds} s: ${why}`);
    });
    return lines;
  }

  #reason(api: RefusalSubject, why: RefusedFor): string {
    if (why === RefusedFor.Closing) return 'the server is shutting down';
    if (why === RefusedFor.QueuedBytes) return `the bodies of requests not yet answered hold ${mib(this.#maxQueuedBytes)} (--max-queued-bytes)`;
    const ready = api.readyReplicas;
    if (ready === 0) {
      const summary = api.initError?.trim().split('\n')[0];
      return summary ? `its predictor failed to initialize: ${summary}` : 'no ready replica yet';
    }
    const s = ready === 1 ? '' : 's';
    return `at capacity ${count(ready * api.maxReplicaConcurrency)} (max_replica_concurrency ${api.maxReplicaConcurrency} × ${ready} ready replica${s})`;
  }
}
