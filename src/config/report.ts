// How config problems read on a terminal. Kept apart from the reader so that
// `serve`, which reads cortex.yaml in a child process, can print the child's
// errors without loading the YAML parser and the schema checker itself.
import { isAbsolute, relative } from 'node:path';
import type { ConfigError } from '../errors.ts';

/** How a path reads in a message: relative to cwd when inside it, else absolute. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

/** One line per issue, like a compiler: `cortex.yaml:4:19  api "a": autoscaling.min_replicas: must be ≤ max_replicas (got 4 > 2)`. */
export function formatConfigIssues(err: ConfigError): string {
  const file = displayPath(err.file);
  const lines = err.issues.map((i) => {
    const where = `${file}:${i.line ?? 1}:${i.column ?? 1}`;
    const who = i.api !== null ? `api ${JSON.stringify(i.api)}: ` : i.index !== undefined && i.path !== '' ? `API #${i.index + 1}: ` : '';
    return `${where}  ${who}${i.path ? `${i.path}: ` : ''}${i.message}`;
  });
  lines.push(`${err.issues.length} error${err.issues.length === 1 ? '' : 's'} in ${file}`);
  return lines.join('\n');
}
