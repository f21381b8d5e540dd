// What an export is made of, before anything is written: pure data, built from
// the resolved config by src/export/{kserve,rayserve,runtime}.ts.

export type Engine = 'kserve' | 'rayserve';

export const ENGINES: readonly Engine[] = ['kserve', 'rayserve'];

/**
 * A cortex.yaml field that the engine cannot carry over as it is: `dropped`
 * when the engine has nothing like it, `differs` when the mapping is close but
 * not the same (a clamp, a rounding, a different mechanism). Every one is
 * written to EXPORT_NOTES.md.
 */
export interface Note {
  /** dot path in the API, as in cortex.yaml: `autoscaling.max_upscale_factor` */
  field: string;
  kind: 'dropped' | 'differs';
  text: string;
}

/** One API as the exported server reads it from cortex_export.json (paths relative to project/). */
export interface RuntimeApi {
  name: string;
  endpoint: string;
  type: string;
  path: string;
  python_path: string;
  config: Record<string, unknown>;
  /** requests executed at once by the replica: workers_per_replica × threads_per_worker */
  threads: number;
  model: string | null;
  signature_key: string | null;
}

export interface ApiExport<Manifest> {
  api: string;
  manifest: Manifest;
  runtime: RuntimeApi;
  notes: Note[];
}
