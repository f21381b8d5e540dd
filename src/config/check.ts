// Field checks are zod schemas; one error map turns zod's issues into the
// messages a user reads next to the file position ("must be ≤ 20 (got 25)").
import { z } from 'zod';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export function check<T>(schema: z.ZodType<T>, input: unknown): Checked<T> {
  const r = schema.safeParse(input, { error: describeIssue });
  return r.success ? { ok: true, value: r.data } : { ok: false, message: r.error.issues[0].message };
}

/** How a YAML value reads in a message: `"2" (a string)`, `1.5`, `a mapping`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return `${JSON.stringify(v)}, a string`;
  if (typeof v === 'boolean') return `${v}, a boolean`;
  if (typeof v === 'number') return Number.isInteger(v) ? `${v}, an integer` : `${v}, a number`;
  if (typeof v === 'bigint') return `${v}, an integer`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map || typeof v === 'object') return 'a mapping';
  return String(v);
}

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  map: 'a mapping',
};

/** `key: yes` is a boolean in YAML 1.1; say so where a string was expected. */
const yaml11Boolean = (input: unknown) => (typeof input === 'boolean' ? '; YAML 1.1 reads y/n, yes/no and on/off as booleans: quote the value' : '');

function describeIssue(iss: z.core.$ZodRawIssue): string {
  const got = describeValue(iss.input) + (iss.code === 'invalid_value' || (iss.code === 'invalid_type' && iss.expected === 'string') ? yaml11Boolean(iss.input) : '');
  switch (iss.code) {
    case 'invalid_type':
      return `must be ${EXPECTED[iss.expected] ?? iss.expected} (got ${got})`;
    case 'too_small':
      if (iss.origin === 'string') return 'must not be empty';
      return `must be ${iss.inclusive ? '≥' : '>'} ${iss.minimum} (got ${iss.input})`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters (got ${(iss.input as string).length})`;
      return `must be ${iss.inclusive ? '≤' : '<'} ${iss.maximum} (got ${iss.input})`;
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => String(v)).join(', ')} (got ${got})`;
    default:
      return iss.message ?? `is invalid (got ${got})`;
  }
}

export const nonEmptyString = z.string().min(1);

// zod reports a string given to z.int() as "expected number"; say integer.
const intError = (iss: z.core.$ZodRawIssue) => (iss.code === 'invalid_type' ? `must be an integer (got ${describeValue(iss.input)})` : undefined);

export const int32 = z
  .int({ error: intError })
  .refine((n) => n >= -(2 ** 31) && n < 2 ** 31, { error: (iss) => `must fit in a 32-bit signed integer, from -2147483648 to 2147483647 (got ${iss.input})` });

/** int64 fields; beyond 2^53 JavaScript numbers are not exact, and no sane config needs them */
export const int64 = z.int({ error: intError });

export const float = z.number();
