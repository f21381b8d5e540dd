// Why an API refuses a request (503), serialized once per reason. Under
// overload nearly every request is refused for the same reason with the same
// figures, so the JSON up to the request id is cached and rebuilt only when
// the reason or its figures change.
import { WorkerInitError } from '../errors.ts';
import type { Gate } from './backend.ts';
import { RefusedFor } from './refusal-tally.ts';

export class Refusal {
  readonly #gate: Gate;
  #prefix = '';
  #closing = false;
  #initError: string | null = null;
  #ready = -1;
  #inFlight = -1;
  #capacity = -1;
  #reason: RefusedFor = RefusedFor.Capacity;

  constructor(gate: Gate) {
    this.#gate = gate;
  }

  /** `{"error":…,["code":…,]"api":…,"request_id":` for the API's state now; the caller appends the id and `}`. */
  prefix(closing: boolean): string {
    const gate = this.#gate;
    const ready = gate.readyReplicas;
    const inFlight = gate.inFlight;
    const capacity = gate.capacity;
    const initError = closing ? null : gate.initError;
    if (ready !== this.#ready || inFlight !== this.#inFlight || capacity !== this.#capacity || closing !== this.#closing || initError !== this.#initError) {
      this.#ready = ready;
      this.#inFlight = inFlight;
      this.#capacity = capacity;
      this.#closing = closing;
      this.#initError = initError;
      this.#prefix = `${JSON.stringify(this.#body(closing, initError, ready, inFlight, capacity)).slice(0, -1)},"request_id":`;
      this.#reason = closing ? RefusedFor.Closing : initError !== null ? RefusedFor.InitFailed : ready === 0 ? RefusedFor.NoReadyReplica : RefusedFor.Capacity;
    }
    return this.#prefix;
  }

  /** why the last prefix refused (refusal-tally.ts counts it by this) */
  get reason(): RefusedFor {
    return this.#reason;
  }

  #body(closing: boolean, initError: string | null, ready: number, inFlight: number, capacity: number): Record<string, string> {
    const api = this.#gate.name;
    if (initError !== null) {
      const err = new WorkerInitError(api, initError);
      return { error: err.message, code: err.code, api };
    }
    const why = closing
      ? 'the server is shutting down'
      : ready === 0
        ? `api "${api}" has no ready replica yet`
        : this.#atCapacity(api, ready, inFlight, capacity);
    return { error: why, api };
  }

  #atCapacity(api: string, ready: number, inFlight: number, capacity: number): string {
    const perReplica = this.#gate.maxReplicaConcurrency;
    const replicas = `${ready} ready replica${ready === 1 ? '' : 's'}`;
    if (capacity === perReplica * ready) return `api "${api}" is at capacity: ${inFlight} requests in flight (max_replica_concurrency ${perReplica} × ${replicas})`;
    // plan.ts, replicaCapacity; a rollout's versions may differ in max_replica_concurrency.
    return (
      `api "${api}" is at capacity: ${inFlight} requests in flight, all it admits now: ${capacity}, not ${perReplica} (max_replica_concurrency) × ${replicas}: ` +
      "a replica whose workers are restarting admits its serving workers' share, and during a rollout each version admits by its own max_replica_concurrency"
    );
  }
}
