// Values as Kubernetes and Knative want them written.

/** Cores as a Kubernetes CPU quantity: `200m`, `1`, `1500m` (Kubernetes keeps milli-CPU precision). */
export function cpuQuantity(cores: number): string {
  const milli = Math.ceil(Math.round(cores * 1e6) / 1e3);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Bytes as a memory quantity, in the largest binary unit that divides it: `1Gi`, `512Mi`, `1000000000`. */
export function memQuantity(bytes: number): string {
  for (const [unit, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Whole seconds as a Go duration string (`60s`), which Knative's annotations parse. */
export function seconds(n: number): string {
  return `${n}s`;
}

