// What a deploy changes, API by API, by name: an API new to cortex.yaml
// starts, one gone from it drains and stops, one whose replicas would run
// differently rolls, one changed only where no replica reads (the autoscaler's
// counts, update_strategy, endpoint) is updated in place, and the others are
// not touched. Pure.
import type { ApiChange } from '../app.ts';
import type { ResolvedApi } from '../config/types.ts';
import type { ApiVersion } from './version.ts';

/** An API as served now. */
export interface RunningApi {
  name: string;
  version: string;
  restartKey: string;
}

export type Outcome = 'created' | 'updating' | 'updated in place' | 'up to date' | 'deleted';

export interface ApiOutcome {
  api: string;
  outcome: Outcome;
  /** the version served once the deploy is done (null: deleted) */
  version: string | null;
  /** the version served before (null: created) */
  from: string | null;
}

export function diffApis(running: readonly RunningApi[], next: readonly { api: ResolvedApi; version: ApiVersion }[]): { changes: ApiChange[]; outcomes: ApiOutcome[] } {
  const changes: ApiChange[] = [];
  const outcomes: ApiOutcome[] = [];
  const names = new Set(next.map((n) => n.api.name));
  for (const r of running) {
    if (names.has(r.name)) continue;
    changes.push({ kind: 'remove', name: r.name });
    outcomes.push({ api: r.name, outcome: 'deleted', version: null, from: r.version });
  }
  for (const { api, version } of next) {
    const r = running.find((x) => x.name === api.name);
    if (r === undefined) {
      changes.push({ kind: 'add', api, version: version.version });
      outcomes.push({ api: api.name, outcome: 'created', version: version.version, from: null });
    } else if (r.version === version.version && r.restartKey === version.restartKey) {
      outcomes.push({ api: api.name, outcome: 'up to date', version: r.version, from: r.version });
    } else {
      const restart = r.restartKey !== version.restartKey;
      changes.push({ kind: 'update', api, version: version.version, restart });
      outcomes.push({ api: api.name, outcome: restart ? 'updating' : 'updated in place', version: version.version, from: r.version });
    }
  }
  return { changes, outcomes };
}
