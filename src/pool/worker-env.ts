// The environment a worker starts with: the server's, then the API's
// predictor.env, then what the replica's compute slice decides.
import type { ResolvedApi } from '../config/types.ts';
import type { Gpu } from './ledger.ts';

const THREAD_VARS = ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'] as const;

export function workerEnv(base: NodeJS.ProcessEnv, api: ResolvedApi, gpus: Gpu[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...api.predictor.env };
  // Empty for CPU replicas, so a CPU API never grabs a GPU by default.
  env.CUDA_VISIBLE_DEVICES = gpus.map((g) => g.index).join(',');
  if (gpus.length > 0) {
    // The seed's memory-growth guard, without editing the predictor: the first
    // TensorFlow process must not take all GPU memory from its siblings.
    env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
  }
  // BLAS/OpenMP pools default to every core; on a shared machine each replica
  // should use its own CPU share, split across its worker processes.
  const perWorker = Math.max(1, Math.floor(api.compute.cpu / api.autoscaling.workers_per_replica));
  for (const name of THREAD_VARS) {
    if (api.predictor.env[name] === undefined && base[name] === undefined) env[name] = String(perWorker);
  }
  return env;
}
