// cortex.yaml's `tracker` (Cortex 0.15 prediction monitoring): what each
// successful prediction said, per API. The value is read as Cortex 0.15's
// Tracker.extract_predicted_value read it (pkg/workloads/cortex/lib/type/
// tracker.py): with `key`, the prediction must be an object holding a non-null
// value under it; without, the prediction itself is the value. Classification
// takes a str or an int (Python's type check: a bool or a float is refused)
// and counts it by class; regression takes an int or a float and keeps min,
// max, mean and a histogram. Anything else is a miss: counted, remembered,
// and never a failed request (Cortex logged a warning and answered).
//
// Python's int and float are told apart by the JSON text the worker wrote
// (`1` against `1.0`), since JSON.parse makes one number of both.

export interface TrackerConfig {
  key: string | null;
  model_type: 'classification' | 'regression';
}

/** Classes kept by name per API; later new classes are counted together as `other`, so a label stays bounded. */
export const MAX_CLASSES = 100;
export const OTHER_CLASS = 'other';

/** Regression histogram upper bounds: decades on both sides of 0, for values of any scale. */
export const REGRESSION_BUCKETS: readonly number[] = (() => {
  const decades = [1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
  return [...decades.map((d) => -d).reverse(), 0, ...decades];
})();

export type TrackedValue = { ok: true; value: string | number } | { ok: false; miss: string };

const INTEGER_LITERAL = /^-?\d+$/;

/**
 * The tracked value of one prediction: `json` is the answer's JSON text, or
 * null when the prediction was bytes.
 */
export function extractTracked(config: TrackerConfig, json: string | null): TrackedValue {
  if (json === null) return miss(config, 'bytes');
  let prediction: unknown;
  try {
    prediction = JSON.parse(json);
  } catch (err) {
    return { ok: false, miss: `the prediction is not JSON: ${(err as Error).message}` };
  }
  let value = prediction;
  let literal = json.trim();
  if (config.key !== null) {
    const key = config.key;
    if (prediction === null || typeof prediction !== 'object' || Array.isArray(prediction)) {
      return { ok: false, miss: `failed to track key '${key}': expected the prediction to be an object but found ${pythonType(prediction, literal)}` };
    }
    value = (prediction as Record<string, unknown>)[key];
    if (value === undefined || value === null) return { ok: false, miss: `failed to track key '${key}': not found in prediction` };
    literal = typeof value === 'number' ? sourceOf(json, key) : '';
  }
  if (config.model_type === 'classification') {
    if (typeof value === 'string') return { ok: true, value };
    if (typeof value === 'number' && INTEGER_LITERAL.test(literal)) return { ok: true, value: literal === '-0' ? '0' : literal };
    return { ok: false, miss: `failed to track classification prediction: expected type 'str' or 'int' but encountered '${pythonType(value, literal)}'` };
  }
  if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
  return { ok: false, miss: `failed to track regression prediction: expected type 'float' or 'int' but encountered '${pythonType(value, literal)}'` };
}

function miss(config: TrackerConfig, type: string): TrackedValue {
  if (config.key !== null) return { ok: false, miss: `failed to track key '${config.key}': expected the prediction to be an object but found ${type}` };
  const expected = config.model_type === 'classification' ? "'str' or 'int'" : "'float' or 'int'";
  return { ok: false, miss: `failed to track ${config.model_type} prediction: expected type ${expected} but encountered '${type}'` };
}

/** The JSON text of the top-level member `key` (JSON.parse's source text access). */
function sourceOf(json: string, key: string): string {
  // The reviver sees nested members named `key` too, and the root last.
  const byHolder = new Map<object, string>();
  let root: unknown;
  JSON.parse(json, function (this: object, k: string, v: unknown, context?: { source?: string }) {
    if (k === key && context?.source !== undefined) byHolder.set(this, context.source);
    root = v;
    return v;
  });
  return byHolder.get(root as object) ?? '';
}

/** The name Python gives the type of a JSON value, as Cortex's messages print it. */
function pythonType(value: unknown, literal: string): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return INTEGER_LITERAL.test(literal) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

export interface ClassificationStats {
  model_type: 'classification';
  key: string | null;
  /** predictions tracked */
  tracked: number;
  misses: number;
  last_miss: string | null;
  /** by count, highest first; `other` (if any) holds the classes past MAX_CLASSES */
  classes: { class: string; count: number }[];
}

export interface RegressionStats {
  model_type: 'regression';
  key: string | null;
  tracked: number;
  misses: number;
  last_miss: string | null;
  min: number | null;
  max: number | null;
  mean: number | null;
  sum: number;
  /** counts per bucket of REGRESSION_BUCKETS (not cumulative), then one for values above the last */
  histogram: { le: number | '+Inf'; count: number }[];
}

export type TrackerStats = ClassificationStats | RegressionStats;

/** One API's tracker: fed each successful prediction, read by status and /metrics. */
export class Tracker {
  readonly config: TrackerConfig;
  #tracked = 0;
  #misses = 0;
  #lastMiss: string | null = null;
  readonly #classes = new Map<string, number>();
  #other = 0;
  #min = Infinity;
  #max = -Infinity;
  #sum = 0;
  readonly #buckets = new Float64Array(REGRESSION_BUCKETS.length + 1);

  constructor(config: TrackerConfig) {
    this.config = config;
  }

  /** One prediction answered 200: its JSON text, or null for bytes. */
  observe(json: string | null): void {
    const v = extractTracked(this.config, json);
    if (!v.ok) {
      this.#misses++;
      this.#lastMiss = v.miss;
      return;
    }
    this.#tracked++;
    if (typeof v.value === 'string') this.#countClass(v.value);
    else this.#addValue(v.value);
  }

  get misses(): number {
    return this.#misses;
  }

  #countClass(name: string): void {
    const n = this.#classes.get(name);
    if (n !== undefined) this.#classes.set(name, n + 1);
    else if (this.#classes.size < MAX_CLASSES) this.#classes.set(name, 1);
    else this.#other++;
  }

  #addValue(x: number): void {
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    this.#sum += x;
    let i = 0;
    while (i < REGRESSION_BUCKETS.length && x > REGRESSION_BUCKETS[i]) i++;
    this.#buckets[i]++;
  }

  stats(): TrackerStats {
    const base = { key: this.config.key, tracked: this.#tracked, misses: this.#misses, last_miss: this.#lastMiss };
    if (this.config.model_type === 'classification') {
      const classes = [...this.#classes].map(([name, count]) => ({ class: name, count }));
      const mine = classes.find((c) => c.class === OTHER_CLASS);
      // A class of the model's own named `other` shares the overflow's row.
      if (this.#other > 0) {
        if (mine !== undefined) mine.count += this.#other;
        else classes.push({ class: OTHER_CLASS, count: this.#other });
      }
      classes.sort((a, b) => b.count - a.count || (a.class < b.class ? -1 : 1));
      return { model_type: 'classification', ...base, classes };
    }
    const any = this.#tracked > 0;
    return {
      model_type: 'regression',
      ...base,
      min: any ? this.#min : null,
      max: any ? this.#max : null,
      mean: any ? this.#sum / this.#tracked : null,
      sum: this.#sum,
      histogram: [...this.#buckets].map((count, i) => ({ le: i < REGRESSION_BUCKETS.length ? REGRESSION_BUCKETS[i] : '+Inf', count })),
    };
  }
}
