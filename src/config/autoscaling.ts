// The `autoscaling` block: types, defaults and cross-field rules of Cortex
// 0.15's validateAutoscaling, with the seed's defaults (spec/config.md §3).
// Shared by cortex.yaml and `simulate` traces.
import { z } from 'zod';
import { describeValue, float, int32, int64 } from './check.ts';
import { parseDurationNanos } from './duration.ts';
import { INVALID, isValid, readField, readSection, type Read, type Report } from './reader.ts';
import type { AutoscalingConfig } from './types.ts';

export const AUTOSCALING_KEYS = [
  'min_replicas',
  'max_replicas',
  'init_replicas',
  'workers_per_replica',
  'threads_per_worker',
  'target_replica_concurrency',
  'max_replica_concurrency',
  'window',
  'downscale_stabilization_period',
  'upscale_stabilization_period',
  'max_downscale_factor',
  'max_upscale_factor',
  'downscale_tolerance',
  'upscale_tolerance',
] as const;

const INTEGER_KEYS = new Set<string>(['min_replicas', 'max_replicas', 'init_replicas', 'workers_per_replica', 'threads_per_worker', 'max_replica_concurrency']);

const NS_PER_S = 1_000_000_000n;
const TICK_NS = 10n * NS_PER_S;
const seconds = (ns: bigint) => Number(ns) / 1e9;

// Durations must be YAML strings: `window: 60` is a type error in Cortex too.
const duration = z
  .string({ error: (iss) => `must be a duration string such as "60s" or "5m" (got ${describeValue(iss.input)})` })
  .transform((s, ctx) => {
    const ns = parseDurationNanos(s);
    if (ns === null) {
      ctx.issues.push({ code: 'custom', input: s, message: `must be a duration such as "30s", "5m" or "1h30m" (got ${JSON.stringify(s)})` });
      return z.NEVER;
    }
    return ns;
  });
const got = (iss: { input?: unknown }) => `got ${seconds(iss.input as bigint)}s`;
const nonNegativeDuration = duration.refine((ns) => ns >= 0n, { error: (iss) => `must be ≥ 0 (${got(iss)})` });
const window = duration
  .refine((ns) => ns >= TICK_NS, { error: (iss) => `must be ≥ 10s (${got(iss)})` })
  .refine((ns) => ns % TICK_NS === 0n, { error: (iss) => `must be a whole multiple of 10s, the autoscaler tick (${got(iss)})` });

const DEFAULTS = {
  min_replicas: 1,
  max_replicas: 100,
  workers_per_replica: 1,
  threads_per_worker: 1,
  max_replica_concurrency: 1024,
  window: 60,
  downscale_stabilization_period: 300,
  upscale_stabilization_period: 0,
  max_downscale_factor: 0.5,
  max_upscale_factor: 10,
  downscale_tolerance: 0.1,
  upscale_tolerance: 0.1,
};

/**
 * Reads `autoscaling` (absent → all defaults). Returns null when any of its
 * fields is invalid (every problem has been reported).
 */
export function readAutoscaling(raw: unknown, report: Report): AutoscalingConfig | null {
  const section = readSection(raw, ['autoscaling'], AUTOSCALING_KEYS, report);
  if (section === INVALID) return null;
  const field = <T>(key: (typeof AUTOSCALING_KEYS)[number], schema: z.ZodType<T>): Read<T> =>
    readField(section, ['autoscaling', key], schema, report, { integer: INTEGER_KEYS.has(key) });
  const at = (key: string, message: string, opts?: { at?: readonly string[] }) => report(['autoscaling', key], message, opts);

  const min = field('min_replicas', int32.gt(0));
  const max = field('max_replicas', int32.gt(0));
  const initRaw = field('init_replicas', int32.gt(0));
  const workers = field('workers_per_replica', int32.gte(1).lte(20));
  const threads = field('threads_per_worker', int32.gte(1));
  const targetRaw = field('target_replica_concurrency', float.gt(0));
  const maxConcurrency = field('max_replica_concurrency', int64.gt(0));
  const windowNs = field('window', window);
  const down = field('downscale_stabilization_period', nonNegativeDuration);
  const up = field('upscale_stabilization_period', nonNegativeDuration);
  const maxDown = field('max_downscale_factor', float.gte(0).lt(1));
  const maxUp = field('max_upscale_factor', float.gt(1));
  const downTol = field('downscale_tolerance', float.gte(0).lt(1));
  const upTol = field('upscale_tolerance', float.gte(0));

  const minV = min === undefined ? DEFAULTS.min_replicas : min;
  const maxV = max === undefined ? DEFAULTS.max_replicas : max;
  // Derived defaults exist only when what they derive from is valid.
  const init: Read<number> = initRaw === undefined ? minV : initRaw;
  const workersV = workers === undefined ? DEFAULTS.workers_per_replica : workers;
  const threadsV = threads === undefined ? DEFAULTS.threads_per_worker : threads;
  const target: Read<number> =
    targetRaw !== undefined ? targetRaw : isValid(workersV) && isValid(threadsV) ? workersV * threadsV : INVALID;

  if (isValid(minV) && isValid(maxV) && minV > maxV) at('min_replicas', `must be ≤ max_replicas (got ${minV} > ${maxV})`);
  // A defaulted init_replicas is min_replicas: its error points there.
  const initAt = initRaw === undefined && min !== undefined ? { at: ['autoscaling', 'min_replicas'] } : undefined;
  if (isValid(init) && isValid(maxV) && init > maxV) {
    at('init_replicas', `must be ≤ max_replicas (got ${init} > ${maxV}${initRaw === undefined ? '; init_replicas defaults to min_replicas' : ''})`, initAt);
  }
  if (isValid(init) && isValid(minV) && init < minV) at('init_replicas', `must be ≥ min_replicas (got ${init} < ${minV})`, initAt);

  const values = [minV, maxV, init, workersV, threadsV, target, maxConcurrency, windowNs, down, up, maxDown, maxUp, downTol, upTol];
  if (values.some((v) => v === INVALID)) return null;
  if ((minV as number) > (maxV as number) || (init as number) > (maxV as number) || (init as number) < (minV as number)) return null;

  return {
    min_replicas: minV as number,
    max_replicas: maxV as number,
    init_replicas: init as number,
    workers_per_replica: workersV as number,
    threads_per_worker: threadsV as number,
    target_replica_concurrency: target as number,
    max_replica_concurrency: maxConcurrency === undefined ? DEFAULTS.max_replica_concurrency : (maxConcurrency as number),
    window: windowNs === undefined ? DEFAULTS.window : seconds(windowNs as bigint),
    downscale_stabilization_period: down === undefined ? DEFAULTS.downscale_stabilization_period : seconds(down as bigint),
    upscale_stabilization_period: up === undefined ? DEFAULTS.upscale_stabilization_period : seconds(up as bigint),
    max_downscale_factor: maxDown === undefined ? DEFAULTS.max_downscale_factor : (maxDown as number),
    max_upscale_factor: maxUp === undefined ? DEFAULTS.max_upscale_factor : (maxUp as number),
    downscale_tolerance: downTol === undefined ? DEFAULTS.downscale_tolerance : (downTol as number),
    upscale_tolerance: upTol === undefined ? DEFAULTS.upscale_tolerance : (upTol as number),
  };
}

export type AutoscalingBlockResult =
  | { ok: true; value: AutoscalingConfig }
  | { ok: false; issues: { path: string; message: string }[] };

/** The autoscaling block on its own (a `simulate` trace's), from a YAML Map or a JSON object. */
export function resolveAutoscalingBlock(raw: unknown): AutoscalingBlockResult {
  const issues: { path: string; message: string }[] = [];
  const value = readAutoscaling(raw, (path, message) => issues.push({ path: path.join('.'), message }));
  return value && issues.length === 0 ? { ok: true, value } : { ok: false, issues };
}
