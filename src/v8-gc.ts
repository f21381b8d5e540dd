// Collections cortex-local asks V8 for, where its own heuristics leave memory
// held (idle-trim.ts, buffer-churn.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'major' | 'minor'; execution: 'sync'; flavor?: 'last-resort' }) => void;
let gc: Gc | undefined;

function exposed(): Gc {
  if (gc === undefined) {
    // The way Node's documentation of v8.setFlagsFromString shows: `gc` is
    // exposed to contexts made after the flag is set.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  return gc;
}

/** One full, memory-reducing collection of this thread's heap. */
export function collectAllGarbage(): void {
  exposed()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** One collection of this thread's young generation (a scavenge: well under a millisecond for a server's). */
export function collectYoungGeneration(): void {
  exposed()({ type: 'minor', execution: 'sync' });
}
