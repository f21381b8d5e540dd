// The JSON the status routes answer with, built on the main thread from an
// API's parts: its pool, its metrics, its autoscaler and its log lines.
// GET <endpoint>, GET / and GET /apis[/NAME] give the summary; the dashboard
// asks for the series too; /apis/NAME/autoscaler and /apis/NAME/logs give
// the autoscaler's last ticks and the recent lines.
import type { Autoscaler } from '../autoscale/autoscaler.ts';
import type { ExplainedTick } from '../autoscale/explain.ts';
import type { AutoscalingConfig } from '../config/types.ts';
import type { LogLine, LogRing } from '../logs/ring.ts';
import type { ApiMetrics } from '../metrics/registry.ts';
import type { TrackerStats } from '../metrics/tracker.ts';
import type { SeriesPoint } from '../metrics/window.ts';
import type { ApiPool, ReplicaStatus, RolloutState, RolloutStatus } from '../pool/api-pool.ts';
import { readMemoryBytes } from '../pool/memory.ts';

/** Everything the server holds about one API; a deploy replaces its autoscaler (and its metrics' tracker). */
export interface ApiParts {
  pool: ApiPool;
  metrics: ApiMetrics;
  autoscaler: Autoscaler;
  logs: LogRing;
}

export interface WorkerSummary {
  index: number;
  state: string;
  pid: number | null;
  /** the worker process's memory (proportional set size); null when not running, or not asked for */
  memory_bytes: number | null;
}

export type ReplicaSummary = Omit<ReplicaStatus, 'workers'> & { workers: WorkerSummary[] };

/** The JSON of GET <endpoint> (with its message), of each API in GET / and GET /apis, and of GET /apis/NAME. */
export interface ApiSummary {
  api: string;
  endpoint: string;
  /** as Cortex's statuses: the rollout's state (pool/api-pool.ts) */
  status: RolloutState;
  /** a short hash of the API's config and code (reload/version.ts) */
  version: string;
  rollout: RolloutStatus;
  desired_replicas: number;
  replicas: Record<string, number>;
  in_flight: number;
  queued: number;
  capacity: number;
  /** clients that left before their answer: while their request waited, or while it executed */
  abandoned: { waiting: number; executing: number };
  last_error: string | null;
  /** answers of the last minute: counts by status class, rate per second, p50/p99 in ms of admitted requests */
  requests: { seconds: number; total: number; rate: number; codes: Record<string, number>; p50_ms: number | null; p99_ms: number | null };
  restarts: Record<string, number>;
  /** the autoscaler's last tick (null before the first) */
  autoscaler: Pick<ExplainedTick, 't' | 'avg_in_flight' | 'recommendation' | 'current' | 'request' | 'reason'> | null;
  tracker: TrackerStats | null;
  detail: ReplicaSummary[];
  /** onnx/tensorflow APIs: the model's inputs ({name: {shape, type}}), as Cortex 0.15's GET showed them */
  model_signature?: unknown;
}

/** The dashboard's view of one API: the summary and its recent history. */
export interface ApiHistory extends ApiSummary {
  /** 5-second steps over the last 10 minutes */
  series: SeriesPoint[];
  ticks: readonly ExplainedTick[];
  /** the latest error lines of its log, newest last */
  errors: LogLine[];
}

export interface AutoscalerView {
  api: string;
  autoscaling: AutoscalingConfig;
  /** the replica count requested now */
  desired_replicas: number;
  ticks: readonly ExplainedTick[];
}

export interface LogsView {
  api: string;
  /** the sequence number of the latest line; ask with after=last for what follows */
  last: number;
  lines: LogLine[];
}

const SERIES_STEP_SECONDS = 5;
const SERIES_POINTS = 120;
const RECENT_ERRORS = 10;

/**
 * `memory`: read each worker's memory from /proc, for the views that show it
 * (GET /apis/NAME, the dashboard); GET <endpoint> and the lists stay as cheap
 * as the pool's own status.
 */
export async function summarize(parts: ApiParts, memory: boolean): Promise<ApiSummary> {
  const { pool, metrics, autoscaler } = parts;
  const s = pool.status();
  const detail = await Promise.all(
    s.detail.map(async (r) => ({
      ...r,
      workers: await Promise.all(r.workers.map(async (w) => ({ ...w, memory_bytes: memory && w.pid !== null ? await readMemoryBytes(w.pid) : null }))),
    })),
  );
  const minute = metrics.lastMinute();
  const tick = autoscaler.ticks.at(-1);
  const ms = (seconds: number | null) => (seconds === null ? null : Math.round(seconds * 1e6) / 1e3);
  return {
    api: s.name,
    endpoint: s.endpoint,
    status: s.rollout.state,
    version: s.version,
    rollout: s.rollout,
    desired_replicas: s.desired_replicas,
    replicas: s.replicas,
    in_flight: s.in_flight,
    queued: s.queued,
    capacity: s.capacity,
    abandoned: s.abandoned,
    last_error: s.last_error,
    requests: { seconds: minute.seconds, total: minute.requests, rate: minute.rate, codes: minute.codes, p50_ms: ms(minute.p50), p99_ms: ms(minute.p99) },
    restarts: { ...metrics.restarts },
    autoscaler:
      tick === undefined
        ? null
        : { t: tick.t, avg_in_flight: tick.avg_in_flight, recommendation: tick.recommendation, current: tick.current, request: tick.request, reason: tick.reason },
    tracker: metrics.trackerStats(),
    detail,
    ...(s.model_signature === null ? {} : { model_signature: s.model_signature }),
  };
}

export async function history(parts: ApiParts): Promise<ApiHistory> {
  const summary = await summarize(parts, true);
  return {
    ...summary,
    series: parts.metrics.window.series(SERIES_STEP_SECONDS, SERIES_POINTS),
    ticks: parts.autoscaler.ticks,
    errors: parts.logs.since(0).filter((l) => l.level === 'error').slice(-RECENT_ERRORS),
  };
}

export function autoscalerView(parts: ApiParts): AutoscalerView {
  return { api: parts.pool.api.name, autoscaling: parts.pool.api.autoscaling, desired_replicas: parts.pool.desiredReplicas, ticks: parts.autoscaler.ticks };
}

export function logsView(parts: ApiParts, after: number, limit: number): LogsView {
  return { api: parts.pool.api.name, last: parts.logs.last, lines: parts.logs.since(after, limit) };
}
