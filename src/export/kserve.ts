// A Cortex API as a KServe InferenceService (serving.kserve.io/v1beta1) with a
// custom predictor container, in KServe's default Serverless mode, where
// Knative's autoscaler (KPA) scales on in-flight requests as Cortex did.
// Knative's limits are those of knative.dev/serving
// pkg/apis/autoscaling/annotation_validation.go and config-defaults.
import type { ResolvedApi } from '../config/types.ts';
import { cpuQuantity, memQuantity, seconds } from './format.ts';
import { commonNotes, runtimeApi } from './runtime.ts';
import type { ApiExport, Note } from './types.ts';

export const KSERVE_VERSION = '0.21.0';
/** The port KServe's ModelServer listens on, and the one a custom predictor container declares. */
export const KSERVE_HTTP_PORT = 8080;

const KNATIVE = 'autoscaling.knative.dev';
/** Knative's bounds for the stable window and the scale-down delay. */
const WINDOW_MIN_S = 6;
const WINDOW_MAX_S = 3600;
const TARGET_MIN = 0.01;
/** config-defaults' container-concurrency-max-limit as Knative ships it. */
const CONTAINER_CONCURRENCY_MAX = 1000;

export interface InferenceService {
  apiVersion: 'serving.kserve.io/v1beta1';
  kind: 'InferenceService';
  metadata: { name: string; annotations: Record<string, string> };
  spec: { predictor: Record<string, unknown> };
}

export function inferenceService(api: ResolvedApi, projectDir: string, image: string): ApiExport<InferenceService> {
  const a = api.autoscaling;
  const notes: Note[] = commonNotes(api);

  let target = a.target_replica_concurrency;
  if (target < TARGET_MIN) {
    notes.push({ field: 'autoscaling.target_replica_concurrency', kind: 'differs', text: `${target} is below Knative's minimum target of ${TARGET_MIN}; written as ${TARGET_MIN}.` });
    target = TARGET_MIN;
  }
  let window = a.window;
  if (window > WINDOW_MAX_S) {
    notes.push({ field: 'autoscaling.window', kind: 'differs', text: `${a.window}s is longer than Knative's longest stable window (1h); written as 3600s.` });
    window = WINDOW_MAX_S;
  }
  window = Math.max(window, WINDOW_MIN_S);
  let delay = a.downscale_stabilization_period;
  if (delay > WINDOW_MAX_S) {
    notes.push({ field: 'autoscaling.downscale_stabilization_period', kind: 'differs', text: `${delay}s is longer than Knative's longest scale-down-delay (1h); written as 3600s.` });
    delay = WINDOW_MAX_S;
  } else if (!Number.isInteger(delay)) {
    notes.push({ field: 'autoscaling.downscale_stabilization_period', kind: 'differs', text: `Knative takes whole seconds: ${delay}s is written as ${Math.ceil(delay)}s.` });
    delay = Math.ceil(delay);
  }
  let containerConcurrency = a.max_replica_concurrency;
  if (containerConcurrency > CONTAINER_CONCURRENCY_MAX) {
    notes.push({
      field: 'autoscaling.max_replica_concurrency',
      kind: 'differs',
      text: `${containerConcurrency} is above Knative's default container-concurrency-max-limit (${CONTAINER_CONCURRENCY_MAX}); written as ${CONTAINER_CONCURRENCY_MAX}. To keep ${containerConcurrency}, raise container-concurrency-max-limit in the knative-serving config-defaults ConfigMap and edit containerConcurrency.`,
    });
    containerConcurrency = CONTAINER_CONCURRENCY_MAX;
  }
  notes.push({
    field: 'autoscaling.max_replica_concurrency',
    kind: 'differs',
    text: 'Cortex answered 503 at once beyond this many requests in flight per replica; Knative queues the excess in the queue-proxy and activator (503 only when those queues overflow).',
  });

  const annotations: Record<string, string> = {
    [`${KNATIVE}/class`]: 'kpa.autoscaling.knative.dev',
    [`${KNATIVE}/metric`]: 'concurrency',
    [`${KNATIVE}/target`]: String(target),
    // Knative aims at 70 % of the target unless told otherwise; Cortex aimed at the target itself.
    [`${KNATIVE}/target-utilization-percentage`]: '100',
    [`${KNATIVE}/window`]: seconds(window),
    [`${KNATIVE}/initial-scale`]: String(a.init_replicas),
    [`${KNATIVE}/scale-down-delay`]: seconds(delay),
  };

  const requests: Record<string, string> = { cpu: cpuQuantity(api.compute.cpu) };
  const limits: Record<string, string> = {};
  if (api.compute.mem !== null) requests.memory = memQuantity(api.compute.mem);
  if (api.compute.gpu > 0) {
    // Kubernetes takes extended resources in limits (requests must then equal them).
    requests['nvidia.com/gpu'] = String(api.compute.gpu);
    limits['nvidia.com/gpu'] = String(api.compute.gpu);
  }
  notes.push({
    field: 'compute',
    kind: 'differs',
    text: `Cortex requested CPU and memory without limits. KServe fills a limit the container does not set from its inferenceservice-config (1 CPU and 2Gi as KServe ships it)${api.compute.cpu > 1 || (api.compute.mem ?? 0) > 2 ** 31 ? ', below what this API requests: the pod is refused until you clear those defaults or add limits at least as large as the requests' : ''}.`,
  });

  const container: Record<string, unknown> = {
    name: 'kserve-container',
    image,
    args: ['--api', api.name],
    ports: [{ containerPort: KSERVE_HTTP_PORT, protocol: 'TCP' }],
    resources: Object.keys(limits).length > 0 ? { requests, limits } : { requests },
  };
  const env = Object.entries(api.predictor.env);
  // The container sees only its own GPUs, numbered from 0; the worker runtime
  // puts an onnx model on the GPU only when CUDA_VISIBLE_DEVICES names some.
  if (api.compute.gpu > 0 && api.predictor.env.CUDA_VISIBLE_DEVICES === undefined) {
    env.push(['CUDA_VISIBLE_DEVICES', Array.from({ length: api.compute.gpu }, (_, i) => i).join(',')]);
  }
  if (env.length > 0) container.env = env.map(([name, value]) => ({ name, value }));

  notes.push({
    field: 'update_strategy',
    kind: 'differs',
    text: 'written as spec.predictor.deploymentStrategy, which KServe applies in RawDeployment (Standard) mode. In Serverless mode Knative starts the new revision at full size and moves traffic once it is ready, as max_unavailable 0 would.',
  });

  for (const field of ['upscale_stabilization_period', 'max_upscale_factor', 'max_downscale_factor', 'upscale_tolerance', 'downscale_tolerance'] as const) {
    notes.push({ field: `autoscaling.${field}`, kind: 'dropped', text: knativeGap(field, a[field]) });
  }

  const manifest: InferenceService = {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: api.name, annotations },
    spec: {
      predictor: {
        minReplicas: a.min_replicas,
        maxReplicas: a.max_replicas,
        containerConcurrency,
        deploymentStrategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: intOrPercent(api.update_strategy.max_surge), maxUnavailable: intOrPercent(api.update_strategy.max_unavailable) },
        },
        containers: [container],
      },
    },
  };
  return { api: api.name, manifest, runtime: runtimeApi(api, projectDir), notes };
}

function knativeGap(field: 'upscale_stabilization_period' | 'max_upscale_factor' | 'max_downscale_factor' | 'upscale_tolerance' | 'downscale_tolerance', value: number): string {
  switch (field) {
    case 'upscale_stabilization_period':
      return `(${value}s) Knative has no upscale delay: it scales up on each decision, and faster in panic mode (a burst above twice the capacity over a tenth of the window).`;
    case 'max_upscale_factor':
      return `(${value}) Knative limits the scale-up rate for the whole cluster only: max-scale-up-rate: "${value}" in the knative-serving config-autoscaler ConfigMap would match it.`;
    case 'max_downscale_factor':
      return `(${value}) Knative limits the scale-down rate for the whole cluster only: ${value > 0 ? `max-scale-down-rate: "${+(1 / value).toFixed(6)}"` : 'no max-scale-down-rate'} in the knative-serving config-autoscaler ConfigMap would match it.`;
    case 'upscale_tolerance':
    case 'downscale_tolerance':
      return `(${value}) Knative has no tolerance band: every change of the recommended count is applied.`;
  }
}

/** Cortex wrote max_surge / max_unavailable as an int, `N%`, or an int in a string; Kubernetes takes an int or `N%`. */
function intOrPercent(value: number | string): number | string {
  return typeof value === 'string' && !value.endsWith('%') ? Number(value) : value;
}
