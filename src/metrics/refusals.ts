// Why the front door answered 503 without admitting a request: decided where
// the request arrived (main thread or a front-door thread) and counted there
// by index, so the overload path only bumps a number.
export const GATE_REFUSALS = ['capacity', 'no_ready_replica', 'init_failed', 'shutting_down'] as const;
export type GateRefusal = (typeof GATE_REFUSALS)[number];
