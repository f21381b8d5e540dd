// A resolved API with cortex.yaml's defaults, for tests that drive the pool
// directly (the config layer's own tests cover how cortex.yaml resolves).
import type { AutoscalingConfig, ResolvedApi } from '../../src/config/types.ts';

export function makeApi(name: string, dir: string, opts: {
  path?: string;
  config?: Record<string, unknown>;
  compute?: Partial<ResolvedApi['compute']>;
  autoscaling?: Partial<AutoscalingConfig>;
  env?: Record<string, string>;
} = {}): ResolvedApi {
  const workers = opts.autoscaling?.workers_per_replica ?? 1;
  const threads = opts.autoscaling?.threads_per_worker ?? 1;
  const min = opts.autoscaling?.min_replicas ?? 1;
  return {
    name,
    endpoint: `/${name}`,
    predictor: { type: 'python', path: opts.path ?? 'predictor.py', model: null, signature_key: null, config: opts.config ?? {}, python_path: dir, env: opts.env ?? {} },
    tracker: null,
    compute: { cpu: 0.2, gpu: 0, mem: null, ...opts.compute },
    autoscaling: {
      min_replicas: min,
      max_replicas: 100,
      init_replicas: min,
      workers_per_replica: workers,
      threads_per_worker: threads,
      target_replica_concurrency: workers * threads,
      max_replica_concurrency: 1024,
      window: 60,
      downscale_stabilization_period: 300,
      upscale_stabilization_period: 0,
      max_downscale_factor: 0.5,
      max_upscale_factor: 10,
      downscale_tolerance: 0.1,
      upscale_tolerance: 0.1,
      ...opts.autoscaling,
    },
    update_strategy: { max_surge: '25%', max_unavailable: '25%' },
  };
}
