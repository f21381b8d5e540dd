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
  #reason: RefusedFor = RefusedFor.Capacity;

  constructor(gate: Gate) {
    this.#gate = gate;
  }

  /** `{"error":…,["code":…,]"api":…,"request_id":` for the API's state now; the caller appends the id and `}`. */
  prefix(closing: boolean): string {
    const gate = this.#gate;
    const ready = gate.readyReplicas;
    const inFlight = gate.inFlight;
    const initError = closing ? null : gate.initError;
    if (ready !== this.#ready || inFlight !== this.#inFlight || closing !== this.#closing || initError !== this.#initError) {
      this.#ready = ready;
      this.#inFlight = inFlight;
      this.#closing = closing;
      this.#initError = initError;
      this.#prefix = `${JSON.stringify(this.#body(closing, initError, ready, inFlight)).slice(0, -1)},"request_id":`;
      this.#reason = closing ? RefusedFor.Closing : initError !== null ? RefusedFor.InitFailed : ready === 0 ? RefusedFor.NoReadyReplica : RefusedFor.Capacity;
    }
    return this.#prefix;
  }

  /** why the last prefix refused (refusal-tally.ts counts it by this) */
  get reason(): RefusedFor {
    return this.#reason;
  }

  #body(closing: boolean, initError: string | null, ready: number, inFlight: number): Record<string, string> {
    const api = this.#gate.name;
    if (initError !== null) {
      const err = new WorkerInitError(api, initError);
      return { error: err.message, code: err.code, api };
    }
    const why = closing
      ? 'the server is shutting down'
      : ready === 0
        ? `api "${api}" has no ready replica yet`
        : `api "${api}" is at capacity: ${inFlight} requests in flight (max_replica_concurrency ${this.#gate.maxReplicaConcurrency} × ${ready} ready replica${ready === 1 ? '' : 's'})`;
    return { error: why, api };
  }
}
