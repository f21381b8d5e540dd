// A Prometheus histogram made for the answer path. prom-client's observe()
// validates and hashes its labels on every call; here each label set is
// looked up once (`child`), and observing is a bucket search and three
// increments. The registry reads it like any prom-client metric (`get`).

/** One line of a metric as prom-client's registry formats it. */
export interface MetricLine {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's registry asks of a metric it did not make (Registry.registerMetric, then get()). */
export interface CustomMetric {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly aggregator: string;
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricLine[] }>;
}

export class Buckets {
  readonly bounds: readonly number[];
  /** per bucket, not cumulative; the last counts values above every bound */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily<L extends string> implements CustomMetric {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #children = new Map<string, { labels: Record<L, string>; buckets: Buckets }>();

  constructor(opts: { name: string; help: string; buckets: readonly number[] }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#bounds = opts.buckets;
  }

  /** The series of one label set, to keep and observe into. */
  child(labels: Record<L, string>): Buckets {
    const key = JSON.stringify(labels);
    let c = this.#children.get(key);
    if (c === undefined) {
      c = { labels, buckets: new Buckets(this.#bounds) };
      this.#children.set(key, c);
    }
    return c.buckets;
  }

  /** Forgets the series of one label set. */
  remove(labels: Record<L, string>): void {
    this.#children.delete(JSON.stringify(labels));
  }

  get(): ReturnType<CustomMetric['get']> {
    const values: MetricLine[] = [];
    for (const { labels, buckets } of this.#children.values()) values.push(...exportBuckets(this.name, labels, buckets));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

/** A histogram's _bucket (cumulative, with le), _sum and _count lines for one label set. */
export function exportBuckets(name: string, labels: Record<string, string | number>, b: Buckets): MetricLine[] {
  const out: MetricLine[] = [];
  let acc = 0;
  for (let i = 0; i <= b.bounds.length; i++) {
    acc += b.counts[i];
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: i < b.bounds.length ? b.bounds[i] : '+Inf' }, value: acc });
  }
  out.push({ metricName: `${name}_sum`, labels, value: b.sum });
  out.push({ metricName: `${name}_count`, labels, value: b.count });
  return out;
}
