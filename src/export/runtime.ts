// The part of an API that the exported server reads at start (cortex_export.json),
// and the notes every engine shares: fields that only cortex-local's own
// server knew about.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ExportError } from '../errors.ts';
import type { ResolvedApi } from '../config/types.ts';
import type { Note, RuntimeApi } from './types.ts';

/** `target` as a path inside the project folder (POSIX separators), or an ExportError: the export carries the project folder only. */
export function insideProject(projectDir: string, target: string, field: string, api: string): string {
  const rel = relative(projectDir, target);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new ExportError(`api "${api}": ${field} ${target} lies outside the project folder ${projectDir}; the export copies only that folder, so move it inside`);
  }
  return rel === '' ? '.' : rel.split(sep).join('/');
}

export function runtimeApi(api: ResolvedApi, projectDir: string): RuntimeApi {
  const { predictor, autoscaling } = api;
  const model = predictor.model === null || predictor.model.startsWith('s3://') ? predictor.model : insideProject(projectDir, predictor.model, 'predictor.model', api.name);
  return {
    name: api.name,
    endpoint: api.endpoint,
    type: predictor.type,
    path: insideProject(projectDir, resolve(projectDir, predictor.path), 'predictor.path', api.name),
    python_path: insideProject(projectDir, predictor.python_path, 'predictor.python_path', api.name),
    config: predictor.config,
    threads: autoscaling.workers_per_replica * autoscaling.threads_per_worker,
    model,
    signature_key: predictor.signature_key,
  };
}

/** Notes that hold for every engine: one process per replica, no tracker, models fetched by each replica. */
export function commonNotes(api: ResolvedApi): Note[] {
  const notes: Note[] = [];
  const { workers_per_replica: workers, threads_per_worker: threads } = api.autoscaling;
  if (api.predictor.model?.startsWith('s3://')) {
    notes.push({
      field: 'predictor.model',
      kind: 'differs',
      text: `${api.predictor.model} is downloaded when each replica starts, with credentials from the usual AWS environment variables or files of the replica (Cortex used its cluster's); a public object needs none. Give the replicas credentials, or copy the model into the project and point predictor.model at it.`,
    });
  }
  if (workers > 1) {
    notes.push({
      field: 'autoscaling.workers_per_replica',
      kind: 'differs',
      text: `Cortex ran ${workers} worker processes per replica; the export runs one process per replica with ${workers} × ${threads} = ${workers * threads} predict threads, so at most ${workers * threads} requests still execute at once, but under one Python interpreter (one GIL). A CPU-bound predictor gets the old throughput from ${workers}× the replicas instead.`,
    });
  }
  if (api.tracker !== null) {
    notes.push({
      field: 'tracker',
      kind: 'dropped',
      text: `prediction tracking (model_type ${api.tracker.model_type}${api.tracker.key === null ? '' : `, key ${api.tracker.key}`}) was a Cortex dashboard feature; the engines have no equivalent, so predictions are not tracked.`,
    });
  }
  return notes;
}
