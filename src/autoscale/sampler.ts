// The per-second in-flight samples of one API and their window average
// (../shared/spec/autoscaler.md §1). Holds only the samples a later average
// can still use: at most window / sample interval of them.

interface Sample {
  /** ms */
  at: number;
  inFlight: number;
}

export class InFlightSampler {
  readonly #windowMs: number;
  /** oldest first */
  #samples: Sample[] = [];

  /** `windowSeconds`: autoscaling.window, in seconds as resolved from cortex.yaml */
  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Records one sample at `now` (ms); times must not go backwards. */
  record(now: number, inFlight: number): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && now < last.at) throw new RangeError(`sample at ${now} ms is before the previous one at ${last.at} ms`);
    // Averages are only asked for at `now` or later, and a sample counts only
    // when T - window < t, so anything at or before now - window is dead.
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop].at <= now - this.#windowMs) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
    this.#samples.push({ at: now, inFlight });
  }

  /**
   * Mean of the samples with now - window < t <= now, summed oldest first
   * (the spec fixes the order so results are reproducible to the last bit),
   * and how many there were; the mean is null when there is none.
   */
  window(now: number): { average: number | null; samples: number } {
    let sum = 0;
    let n = 0;
    for (const s of this.#samples) {
      if (s.at > now - this.#windowMs && s.at <= now) {
        sum += s.inFlight;
        n++;
      }
    }
    return { average: n === 0 ? null : sum / n, samples: n };
  }

  /** How many samples are held (tests check the memory bound). */
  get size(): number {
    return this.#samples.length;
  }
}
