// The resolved shape of one API of cortex.yaml (../shared/spec/config.md §4).
// Everything downstream (pool, autoscaler, http, export) reads only this.

export type PredictorType = 'python' | 'tensorflow' | 'onnx';

export interface AutoscalingConfig {
  min_replicas: number;
  max_replicas: number;
  init_replicas: number;
  workers_per_replica: number;
  threads_per_worker: number;
  target_replica_concurrency: number;
  max_replica_concurrency: number;
  /** seconds */
  window: number;
  /** seconds */
  downscale_stabilization_period: number;
  /** seconds */
  upscale_stabilization_period: number;
  max_downscale_factor: number;
  max_upscale_factor: number;
  downscale_tolerance: number;
  upscale_tolerance: number;
}

export interface ResolvedApi {
  name: string;
  /** canonical: leading '/', no trailing '/' */
  endpoint: string;
  predictor: {
    type: PredictorType;
    /** as written, relative to the project folder */
    path: string;
    /** s3://… as written, or an absolute local path */
    model: string | null;
    signature_key: string | null;
    config: Record<string, unknown>;
    /** absolute, no trailing '/' */
    python_path: string;
    env: Record<string, string>;
  };
  tracker: { key: string | null; model_type: 'classification' | 'regression' } | null;
  compute: {
    /** cores */
    cpu: number;
    gpu: number;
    /** bytes */
    mem: number | null;
  };
  autoscaling: AutoscalingConfig;
  update_strategy: { max_surge: number | string; max_unavailable: number | string };
}

export interface ResolvedConfig {
  /** absolute path of cortex.yaml */
  file: string;
  /** absolute path of the folder holding it; relative paths resolve against it */
  projectDir: string;
  apis: ResolvedApi[];
}
