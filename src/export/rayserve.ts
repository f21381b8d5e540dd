// A Cortex API as a Ray Serve application in a Serve config file (the schema
// of `serve run` / `serve deploy`, ray.serve.schema.ServeDeploySchema). Ray
// Serve's autoscaler, like Cortex's, aims at a number of ongoing (queued and
// executing) requests per replica.
import type { ResolvedApi } from '../config/types.ts';
import { commonNotes, runtimeApi } from './runtime.ts';
import type { ApiExport, Note } from './types.ts';

export const RAY_VERSION = '2.60.0';
/** Ray Serve's default metrics_interval_s: a look-back period no longer than it draws a warning. */
const METRICS_INTERVAL_S = 10;
/** How the exported application is built from cortex_export.json (python/cortex_local_export/ray_app.py). */
export const RAY_IMPORT_PATH = 'cortex_local_export.ray_app:build';

export interface ServeApplication {
  name: string;
  route_prefix: string;
  import_path: string;
  args: { api: string };
  runtime_env?: { env_vars: Record<string, string> };
  deployments: [ServeDeployment];
}

export interface ServeDeployment {
  name: string;
  max_ongoing_requests: number;
  autoscaling_config: {
    min_replicas: number;
    initial_replicas: number;
    max_replicas: number;
    target_ongoing_requests: number;
    look_back_period_s: number;
    upscale_delay_s: number;
    downscale_delay_s: number;
  };
  ray_actor_options: { num_cpus: number; num_gpus: number; memory?: number };
}

export interface ServeConfig {
  proxy_location: 'EveryNode';
  http_options: { host: string; port: number };
  applications: ServeApplication[];
}

export function serveApplication(api: ResolvedApi, projectDir: string): ApiExport<ServeApplication> {
  const a = api.autoscaling;
  const notes: Note[] = commonNotes(api);
  const ray_actor_options: ServeDeployment['ray_actor_options'] = { num_cpus: api.compute.cpu, num_gpus: api.compute.gpu };
  if (api.compute.mem !== null) ray_actor_options.memory = api.compute.mem;

  if (a.window <= METRICS_INTERVAL_S) {
    notes.push({ field: 'autoscaling.window', kind: 'differs', text: `look_back_period_s ${a.window} is not longer than Ray Serve's metrics interval (${METRICS_INTERVAL_S}s): Ray warns, and averages over fewer samples than Cortex did.` });
  }
  notes.push({
    field: 'autoscaling.upscale_stabilization_period',
    kind: 'differs',
    text: 'Ray scales up once it has wanted to for upscale_delay_s, to its latest recommendation; Cortex scaled to the lowest recommendation of the period.',
  });
  notes.push({
    field: 'autoscaling.downscale_stabilization_period',
    kind: 'differs',
    text: 'Ray scales down once it has wanted to for downscale_delay_s, to its latest recommendation; Cortex scaled to the highest recommendation of the period.',
  });
  notes.push({
    field: 'autoscaling.max_replica_concurrency',
    kind: 'differs',
    text: "Cortex answered 503 at once beyond this many requests in flight per replica; Ray Serve queues the excess in its proxy (max_queued_requests, unlimited by default, turns the queue's overflow into 503s).",
  });
  notes.push({ field: 'update_strategy', kind: 'dropped', text: 'Ray Serve replaces the replicas of an updated deployment on its own schedule; it has no surge or unavailability setting.' });
  for (const field of ['max_upscale_factor', 'max_downscale_factor', 'upscale_tolerance', 'downscale_tolerance'] as const) {
    notes.push({ field: `autoscaling.${field}`, kind: 'dropped', text: rayGap(field, a[field]) });
  }

  const application: ServeApplication = {
    name: api.name,
    route_prefix: api.endpoint,
    import_path: RAY_IMPORT_PATH,
    args: { api: api.name },
    deployments: [
      {
        name: api.name,
        max_ongoing_requests: a.max_replica_concurrency,
        autoscaling_config: {
          min_replicas: a.min_replicas,
          initial_replicas: a.init_replicas,
          max_replicas: a.max_replicas,
          target_ongoing_requests: a.target_replica_concurrency,
          look_back_period_s: a.window,
          upscale_delay_s: a.upscale_stabilization_period,
          downscale_delay_s: a.downscale_stabilization_period,
        },
        ray_actor_options,
      },
    ],
  };
  if (Object.keys(api.predictor.env).length > 0) application.runtime_env = { env_vars: { ...api.predictor.env } };
  return { api: api.name, manifest: application, runtime: runtimeApi(api, projectDir), notes };
}

export function serveConfig(applications: ServeApplication[]): ServeConfig {
  // Cortex APIs were reachable from outside the cluster; Ray's default proxy host is 127.0.0.1.
  return { proxy_location: 'EveryNode', http_options: { host: '0.0.0.0', port: 8000 }, applications };
}

function rayGap(field: 'max_upscale_factor' | 'max_downscale_factor' | 'upscale_tolerance' | 'downscale_tolerance', value: number): string {
  switch (field) {
    case 'max_upscale_factor':
    case 'max_downscale_factor':
      return `(${value}) Ray's upscaling_factor / downscaling_factor multiply each step rather than bound it, so there is no equivalent of a cap on one step.`;
    case 'upscale_tolerance':
    case 'downscale_tolerance':
      return `(${value}) Ray Serve has no tolerance band: every change of the recommended count is applied.`;
  }
}
