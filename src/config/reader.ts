// Reading one mapping of cortex.yaml the way Cortex's configreader does:
// unknown keys, explicit nulls and type errors are each reported once, at the
// key's own path, and reading goes on so every error is found in one pass.
import type { z } from 'zod';
import { check, describeValue } from './check.ts';
import { closest } from './suggest.ts';
import { integralFloatLiteral } from './yaml.ts';

/**
 * Where in the API an error is (`['autoscaling', 'window']`); `key` points the
 * position at the key rather than its value; `at` points it at another field
 * (a derived default's error at the field it derives from).
 */
export type Report = (path: readonly string[], message: string, opts?: { key?: boolean; at?: readonly string[] }) => void;

/** A field that was present but wrong: already reported; rules that read it are skipped. */
export const INVALID: unique symbol = Symbol('invalid');
export type Read<T> = T | undefined | typeof INVALID;

export type Mapping = Map<unknown, unknown>;

/** YAML mappings arrive as Maps; JSON (simulate traces) as plain objects. */
export function toMapping(v: unknown): Mapping | null {
  if (v instanceof Map) return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return new Map(Object.entries(v));
  return null;
}

export function isValid<T>(v: Read<T>): v is T {
  return v !== undefined && v !== INVALID;
}

/**
 * A section such as `autoscaling`: undefined when absent, INVALID when null or
 * not a mapping; unknown keys are reported (and never read), unless `allowed`
 * is FREE_FORM (`predictor.config`, `predictor.env`). The mapping itself
 * is returned, not a copy: yaml.ts knows its integral floats by identity.
 */
export const FREE_FORM = null;

export function readSection(raw: unknown, path: readonly string[], allowed: readonly string[] | typeof FREE_FORM, report: Report): Read<Mapping> {
  if (raw === undefined) return undefined;
  if (raw === null) {
    report(path, 'cannot be null (omit the key to use the default)');
    return INVALID;
  }
  const map = toMapping(raw);
  if (!map) {
    report(path, `must be a mapping (got ${describeValue(raw)})`);
    return INVALID;
  }
  if (allowed === FREE_FORM) return map;
  for (const key of map.keys()) {
    if (typeof key === 'string' && allowed.includes(key)) continue;
    const name = String(key);
    const hint = typeof key === 'string' ? closest(key, allowed) : null;
    report([...path, name], `key "${name}" is not supported${hint ? ` (did you mean "${hint}"?)` : ''}`, { key: true });
  }
  return map;
}

/**
 * One field of a section: undefined when absent (or "must be defined" when
 * required), INVALID when reported. `integer`: the field takes YAML ints only.
 */
export function readField<T>(
  map: Mapping | undefined,
  path: readonly string[],
  schema: z.ZodType<T>,
  report: Report,
  opts: { required?: boolean; integer?: boolean } = {},
): Read<T> {
  const key = path[path.length - 1];
  if (!map || !map.has(key)) {
    if (opts.required) {
      report(path, 'must be defined');
      return INVALID;
    }
    return undefined;
  }
  const raw = map.get(key);
  if (raw === null || raw === undefined) {
    report(path, 'cannot be null (omit the key to use the default)');
    return INVALID;
  }
  // `2.0` is a YAML float: Cortex's int fields reject it although JavaScript reads it as 2.
  const floatLiteral = opts.integer ? integralFloatLiteral(map, key) : undefined;
  if (floatLiteral !== undefined) {
    report(path, `must be an integer (got ${floatLiteral}, a float)`);
    return INVALID;
  }
  const r = check(schema, raw);
  if (!r.ok) {
    report(path, r.message);
    return INVALID;
  }
  return r.value;
}
