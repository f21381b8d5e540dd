// Kubernetes resource quantities (`200m`, `1.5Gi`, `129e6`), parsed exactly:
// Cortex compares them to bounds (cpu ≥ 20m, mem ≥ 20Mi) with
// resource.Quantity's exact arithmetic, so a float here could flip a boundary.

/** An exact rational value num/den (den > 0). */
export interface Quantity {
  num: bigint;
  den: bigint;
}

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SYNTAX = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(.*)$/;
const EXPONENT = /^[eE]([+-]?\d+)$/;

/** Parses a quantity string as resource.ParseQuantity does; null when it is not one. */
export function parseQuantity(text: string): Quantity | null {
  const m = SYNTAX.exec(text);
  if (!m) return null;
  const [, sign, digits, suffix] = m;
  const [whole, frac = ''] = digits.split('.');
  let num = BigInt((whole || '0') + frac) * (sign === '-' ? -1n : 1n);
  let den = 10n ** BigInt(frac.length);
  let exp10: number | undefined = DECIMAL_SUFFIX[suffix];
  const exp2 = BINARY_SUFFIX[suffix];
  if (exp10 === undefined && exp2 === undefined) {
    const e = EXPONENT.exec(suffix);
    if (!e) return null;
    exp10 = Number(e[1]);
    // Kubernetes caps quantities far below this; the cap keeps bigint sizes sane.
    if (Math.abs(exp10) > 1000) return null;
  }
  if (exp2 !== undefined) num *= 2n ** BigInt(exp2);
  else if (exp10! >= 0) num *= 10n ** BigInt(exp10!);
  else den *= 10n ** BigInt(-exp10!);
  return { num, den };
}

/** a ≥ b, exactly */
export function quantityAtLeast(a: Quantity, b: Quantity): boolean {
  return a.num * b.den >= b.num * a.den;
}

export function quantityToNumber(q: Quantity): number {
  return Number(q.num) / Number(q.den);
}

/** The value rounded up to a whole number, as Kubernetes does for byte counts. */
export function quantityCeil(q: Quantity): number {
  const whole = q.num / q.den;
  return Number(q.num % q.den > 0n ? whole + 1n : whole);
}
