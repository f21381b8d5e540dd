// Recent answers of one API, second by second: counts by status class and a
// latency histogram per second, kept for the last ten minutes. `get` reads
// the last minute (rates, p50/p99), the dashboard the per-step series. A
// ring of fixed arrays: recording is a clock read, an index and two
// increments, whatever the traffic.

/** Latency buckets: 50 µs × 2^(i/4), i.e. about 19 % wide, up to ≈ 100 s; interpolated within. */
const BASE_SECONDS = 50e-6;
const PER_OCTAVE = 4;
export const LATENCY_BUCKETS = 84;

const CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof CLASSES)[number];

export interface WindowSummary {
  /** seconds covered (fewer at start) */
  seconds: number;
  requests: number;
  /** answers per second over the window */
  rate: number;
  codes: Record<StatusClass, number>;
  /** of the answers with a latency (admitted requests), in seconds; null without any */
  p50: number | null;
  p99: number | null;
}

export interface SeriesPoint {
  /** ms since the epoch: the start of the step */
  t: number;
  rate: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

export class RequestWindow {
  readonly #slots: number;
  readonly #clock: () => number;
  /** the epoch second each slot holds */
  readonly #second: Float64Array;
  readonly #codes: Uint32Array;
  readonly #latency: Uint32Array;
  readonly #started: number;

  /** `clock`: ms since the epoch (Date.now by default); `seconds`: how far back answers are kept */
  constructor(opts: { seconds?: number; clock?: () => number } = {}) {
    this.#slots = opts.seconds ?? 600;
    this.#clock = opts.clock ?? Date.now;
    this.#second = new Float64Array(this.#slots).fill(-1);
    this.#codes = new Uint32Array(this.#slots * CLASSES.length);
    this.#latency = new Uint32Array(this.#slots * LATENCY_BUCKETS);
    this.#started = Math.floor(this.#clock() / 1000);
  }

  /** One answer: its status code and, for an admitted request, its seconds from admission to answer. */
  record(code: number, seconds: number | null): void {
    this.add(code, 1, seconds);
  }

  /** `n` answers of one status code (counted elsewhere, e.g. by the front-door threads) without latencies, or one with. */
  add(code: number, n: number, seconds: number | null = null): void {
    const slot = this.#slot(Math.floor(this.#clock() / 1000));
    const cls = code >= 200 && code < 600 ? Math.floor(code / 100) - 2 : 3;
    this.#codes[slot * CLASSES.length + cls] += n;
    if (seconds !== null) this.#latency[slot * LATENCY_BUCKETS + bucketOf(seconds)]++;
  }

  /** The last `seconds` seconds, this one included. */
  summary(seconds = 60): WindowSummary {
    const now = Math.floor(this.#clock() / 1000);
    const span = Math.max(1, Math.min(seconds, this.#slots, now - this.#started + 1));
    const codes = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    const hist = new Uint32Array(LATENCY_BUCKETS);
    this.#gather(now - span + 1, now, codes, hist);
    const requests = codes['2xx'] + codes['3xx'] + codes['4xx'] + codes['5xx'];
    return { seconds: span, requests, rate: requests / span, codes, p50: quantile(hist, 0.5), p99: quantile(hist, 0.99) };
  }

  /** `points` steps of `step` seconds, oldest first, the last ending with the current second. */
  series(step: number, points: number): SeriesPoint[] {
    const now = Math.floor(this.#clock() / 1000);
    const out: SeriesPoint[] = [];
    for (let p = points - 1; p >= 0; p--) {
      const last = now - p * step;
      const first = last - step + 1;
      const codes = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
      const hist = new Uint32Array(LATENCY_BUCKETS);
      this.#gather(first, last, codes, hist);
      const requests = codes['2xx'] + codes['3xx'] + codes['4xx'] + codes['5xx'];
      out.push({ t: first * 1000, rate: requests / step, errors: codes['5xx'], p50: quantile(hist, 0.5), p99: quantile(hist, 0.99) });
    }
    return out;
  }

  #gather(first: number, last: number, codes: Record<StatusClass, number>, hist: Uint32Array): void {
    for (let s = Math.max(first, last - this.#slots + 1); s <= last; s++) {
      const slot = s % this.#slots;
      if (this.#second[slot] !== s) continue;
      for (let c = 0; c < CLASSES.length; c++) codes[CLASSES[c]] += this.#codes[slot * CLASSES.length + c];
      for (let b = 0; b < LATENCY_BUCKETS; b++) hist[b] += this.#latency[slot * LATENCY_BUCKETS + b];
    }
  }

  #slot(second: number): number {
    const slot = second % this.#slots;
    if (this.#second[slot] !== second) {
      this.#second[slot] = second;
      this.#codes.fill(0, slot * CLASSES.length, (slot + 1) * CLASSES.length);
      this.#latency.fill(0, slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS);
    }
    return slot;
  }
}

function bucketOf(seconds: number): number {
  if (!(seconds > BASE_SECONDS)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log2(seconds / BASE_SECONDS) * PER_OCTAVE));
}

/** Lower bound of bucket i in seconds (bucket 0 starts at 0). */
function lowerBound(i: number): number {
  return i === 0 ? 0 : BASE_SECONDS * 2 ** (i / PER_OCTAVE);
}

/** The q-quantile of a bucketed histogram, interpolated linearly within its bucket. */
export function quantile(hist: Uint32Array, q: number): number | null {
  let total = 0;
  for (const n of hist) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    if (hist[i] === 0) continue;
    if (seen + hist[i] >= rank) {
      const lo = lowerBound(i);
      const hi = lowerBound(i + 1);
      return lo + (hi - lo) * ((rank - seen) / hist[i]);
    }
    seen += hist[i];
  }
  return lowerBound(hist.length);
}
