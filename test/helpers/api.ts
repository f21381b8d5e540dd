// Resolved configs for tests that drive the pool or the autoscaler directly;
// defaults come from the config layer itself (its own tests pin them to the spec).
import { resolveAutoscalingBlock } from '../../src/config/autoscaling.ts';
import type { AutoscalingConfig, ResolvedApi } from '../../src/config/types.ts';

/** The seed's autoscaling defaults, with init_replicas and the target derived from the overrides as cortex.yaml would. */
export function autoscaling(overrides: Partial<AutoscalingConfig> = {}): AutoscalingConfig {
  const derivedFrom = Object.fromEntries(
    (['min_replicas', 'workers_per_replica', 'threads_per_worker'] as const).filter((k) => overrides[k] !== undefined).map((k) => [k, overrides[k]]),
  );
  const base = resolveAutoscalingBlock({ ...derivedFrom, max_replicas: Math.max(100, overrides.min_replicas ?? 1) });
  if (!base.ok) throw new Error(`invalid test autoscaling block: ${JSON.stringify(base.issues)}`);
  return { ...base.value, max_replicas: 100, ...overrides };
}

export function makeApi(name: string, dir: string, opts: {
  path?: string;
  config?: Record<string, unknown>;
  compute?: Partial<ResolvedApi['compute']>;
  autoscaling?: Partial<AutoscalingConfig>;
  env?: Record<string, string>;
} = {}): ResolvedApi {
  return {
    name,
    endpoint: `/${name}`,
    predictor: { type: 'python', path: opts.path ?? 'predictor.py', model: null, signature_key: null, config: opts.config ?? {}, python_path: dir, env: opts.env ?? {} },
    tracker: null,
    compute: { cpu: 0.2, gpu: 0, mem: null, ...opts.compute },
    autoscaling: autoscaling(opts.autoscaling),
    update_strategy: { max_surge: '25%', max_unavailable: '25%' },
  };
}
