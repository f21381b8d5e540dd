// cortex.yaml text → every API resolved, or every problem found (Cortex
// stops at the first; users fix files faster when they see them all).
import { basename } from 'node:path';
import type { ConfigIssue } from '../errors.ts';
import { readApi, type ApiReading } from './api.ts';
import { describeValue } from './check.ts';
import type { ResolvedApi } from './types.ts';
import { parseYaml } from './yaml.ts';

export type ResolveResult = { ok: true; apis: ResolvedApi[] } | { ok: false; issues: ConfigIssue[] };

export function resolveConfigText(text: string, file: string, projectDir: string): ResolveResult {
  const fileName = basename(file);
  const parsed = parseYaml(text);
  const fileIssue = (message: string, line = 1, column = 1): ResolveResult => ({ ok: false, issues: [{ api: null, path: '', message, line, column }] });

  if (parsed.errors.length > 0) {
    return { ok: false, issues: parsed.errors.map((e) => ({ api: null, path: '', message: `invalid yaml: ${e.message}`, line: e.line, column: e.column })) };
  }
  const top = parsed.value;
  if (top === null || top === undefined || (Array.isArray(top) && top.length === 0)) return fileIssue('at least one API must be configured');
  if (!Array.isArray(top)) {
    const at = parsed.positionOf([]);
    // Cortex's text, exactly as spec §5 example 7 shows it.
    return fileIssue(`${fileName} must contain a list of maps`, at.line, at.column);
  }

  const issues: ConfigIssue[] = [];
  const readings: (ApiReading | null)[] = top.map((item, index) => {
    const at = parsed.positionOf([index]);
    if (item === null || item === undefined) {
      issues.push({ api: null, path: '', message: `API #${index + 1} is empty (cannot be null)`, index, ...at });
      return null;
    }
    if (!(item instanceof Map)) {
      issues.push({ api: null, path: '', message: `API #${index + 1} must be a mapping (got ${describeValue(item)})`, index, ...at });
      return null;
    }
    const found: ConfigIssue[] = [];
    const reading = readApi(item, projectDir, (path, message, opts) => {
      found.push({ api: null, path: path.join('.'), message, index, ...parsed.positionOf([index, ...(opts?.at ?? path)], opts) });
    });
    for (const issue of found) issues.push({ ...issue, api: reading.label });
    return reading;
  });

  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  readings.forEach((r, index) => {
    if (!r) return;
    // A defaulted endpoint was written nowhere: point at the name it comes from.
    const where = (reading: ApiReading, path: 'name' | 'endpoint') => (path === 'endpoint' && !reading.endpointWritten ? 'name' : path);
    const duplicate = (path: 'name' | 'endpoint', firstIndex: number, what: string) => {
      const first = readings[firstIndex]!;
      const firstAt = parsed.positionOf([firstIndex, where(first, path)]);
      issues.push({
        api: r.label,
        path,
        message: `${what} is already used by api ${JSON.stringify(first.label)} (${fileName}:${firstAt.line}:${firstAt.column})`,
        index,
        ...parsed.positionOf([index, where(r, path)]),
      });
    };
    let nameTaken = false;
    if (r.name !== null) {
      const first = names.get(r.name);
      nameTaken = first !== undefined;
      if (first === undefined) names.set(r.name, index);
      else duplicate('name', first, `name ${JSON.stringify(r.name)}`);
    }
    if (r.endpoint !== null) {
      const first = endpoints.get(r.endpoint);
      if (first === undefined) endpoints.set(r.endpoint, index);
      // One bad value, one error: a duplicate name's default endpoint is a duplicate too, by derivation.
      else if (r.endpointWritten || !nameTaken) {
        duplicate('endpoint', first, `endpoint ${JSON.stringify(r.endpoint)}${r.endpointWritten ? '' : ' (the default, /<name>)'}`);
      }
    }
  });

  if (issues.length > 0) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return { ok: false, issues };
  }
  return { ok: true, apis: readings.map((r) => r!.api!) };
}
