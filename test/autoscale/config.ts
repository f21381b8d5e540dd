// A resolved autoscaling block with the seed's defaults (../shared/spec/config.md §4),
// for tests that must not depend on the cortex.yaml loader.
import type { AutoscalingConfig } from '../../src/config/types.ts';

export function autoscaling(overrides: Partial<AutoscalingConfig> = {}): AutoscalingConfig {
  return {
    min_replicas: 1,
    max_replicas: 100,
    init_replicas: 1,
    workers_per_replica: 1,
    threads_per_worker: 1,
    target_replica_concurrency: 1,
    max_replica_concurrency: 1024,
    window: 60,
    downscale_stabilization_period: 300,
    upscale_stabilization_period: 0,
    max_downscale_factor: 0.5,
    max_upscale_factor: 10,
    downscale_tolerance: 0.1,
    upscale_tolerance: 0.1,
    ...overrides,
  };
}
