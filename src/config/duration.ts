// Go's time.ParseDuration, which Cortex uses for `window` and the
// stabilization periods. Exact nanoseconds: `window` must be a whole multiple
// of 10 s, checked in nanoseconds as Cortex does.

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const COMPONENT = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
// time.Duration is an int64: up to 2^63-1 ns, down to -2^63 ns (Go accepts
// "-9223372036854775808ns" but not its positive counterpart).
const MAX_NS = 2n ** 63n - 1n;
const MAX_NEGATIVE_NS = 2n ** 63n;

/** Nanoseconds of a Go duration string, or null when Go would reject it. */
export function parseDurationNanos(text: string): bigint | null {
  let rest = text;
  let negative = false;
  if (rest.startsWith('+') || rest.startsWith('-')) {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return null;
  let total = 0n;
  while (rest !== '') {
    const m = COMPONENT.exec(rest);
    if (!m) return null;
    const [all, whole, frac = '', unit] = m;
    if (whole === '' && frac === '') return null;
    const scale = UNIT_NS[unit];
    total += BigInt(whole || '0') * scale;
    if (frac !== '') total += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    if (total > (negative ? MAX_NEGATIVE_NS : MAX_NS)) return null;
    rest = rest.slice(all.length);
  }
  return negative ? -total : total;
}

/** Seconds of a Go duration string (`1h30m` → 5400, `500ms` → 0.5), or null. */
export function parseDuration(text: string): number | null {
  const ns = parseDurationNanos(text);
  return ns === null ? null : Number(ns) / 1e9;
}
