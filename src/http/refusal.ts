// Why an API refuses a request (503), serialized once per reason. Under
// overload nearly every request is refused for the same reason with the same
// figures, so the JSON up to the request id is cached and rebuilt only when
// the reason or its figures change.
import { WorkerInitError } from '../errors.ts';
import { GATE_REFUSALS, type GateRefusal } from '../metrics/refusals.ts';
import type { Gate } from './backend.ts';

const REASON_INDEX = new Map<GateRefusal, number>(GATE_REFUSALS.map((r, i) => [r, i]));

export class Refusal {
  readonly #gate: Gate;
  #prefix = '';
  #closing = false;
  #initError: string | null = null;
  #ready = -1;
  #inFlight = -1;
  #reason = 0;

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
      const reason: GateRefusal = closing ? 'shutting_down' : initError !== null ? 'init_failed' : ready === 0 ? 'no_ready_replica' : 'capacity';
      this.#reason = REASON_INDEX.get(reason) as number;
    }
    return this.#prefix;
  }

  /** why the last prefix refused, as an index into GATE_REFUSALS (for /metrics) */
  get reason(): number {
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
