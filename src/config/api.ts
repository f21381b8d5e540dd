// One API item of cortex.yaml → ResolvedApi, reporting every problem
// (Cortex 0.15 validations.go: _apiValidation, validatePredictor,
// validateUpdateStrategy). Cross-item rules (duplicates) live in resolve.ts.
import { isAbsolute, relative, resolve as resolvePath, sep } from 'node:path';
import { z } from 'zod';
import { reservedRoute } from '../http/routes.ts';
import { readAutoscaling } from './autoscaling.ts';
import { check, describeValue, int32, int64, nonEmptyString } from './check.ts';
import { findTensorFlowModel, holdsAFile, isDirectory, isFile } from './project-files.ts';
import { parseQuantity, quantityAtLeast, quantityCeil, quantityToNumber, type Quantity } from './quantity.ts';
import { FREE_FORM, INVALID, isValid, readField, readSection, toMapping, type Mapping, type Report } from './reader.ts';
import type { PredictorType, ResolvedApi } from './types.ts';

const API_KEYS = ['name', 'endpoint', 'predictor', 'tracker', 'compute', 'autoscaling', 'update_strategy'];
const PREDICTOR_KEYS = ['type', 'path', 'model', 'signature_key', 'config', 'python_path', 'env'];
const TRACKER_KEYS = ['key', 'model_type'];
const COMPUTE_KEYS = ['cpu', 'mem', 'gpu'];
const UPDATE_KEYS = ['max_surge', 'max_unavailable'];

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ENDPOINT_CHARS = /^[a-zA-Z0-9_\-./]*$/;
const GO_INT = /^[+-]?\d+$/;

/**
 * Names reserved by Cortex start with CORTEX_; cortex-local reads this one
 * from predictor.env by design (issue 6), so it is the single exception.
 */
const ALLOWED_CORTEX_ENV = new Set(['CORTEX_LOCAL_TF_MEMORY_LIMIT_MB']);

const name = nonEmptyString.max(42).regex(DNS_1035, {
  error: (iss) => `must be a valid DNS-1035 label: lowercase letters, digits and '-', starting with a letter and not ending with '-' (got ${JSON.stringify(iss.input)})`,
});

const endpoint = nonEmptyString
  .max(1000)
  .regex(ENDPOINT_CHARS, { error: (iss) => `may contain only letters, digits and _ - . / (got ${JSON.stringify(iss.input)})` })
  .refine((s) => !s.includes('//'), { error: (iss) => `must not contain "//" (got ${JSON.stringify(iss.input)})` })
  // Cortex 0.15 took these; HTTP clients resolve dot segments before sending
  // (`/a/../b` goes out as `/b`), so such an endpoint could never be reached.
  .refine((s) => !s.split('/').some((seg) => seg === '.' || seg === '..'), {
    error: (iss) => `must not contain "." or ".." path segments: HTTP clients resolve them before sending, so no request could reach it (got ${JSON.stringify(iss.input)})`,
  })
  .transform(canonicalEndpoint)
  .refine((s) => s !== '/', { error: 'cannot be "/": every API needs its own path' });

function canonicalEndpoint(s: string): string {
  const withSlash = s.startsWith('/') ? s : `/${s}`;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

const predictorType = z.enum(['python', 'tensorflow', 'onnx']);
const modelType = z.enum(['classification', 'regression']);

function quantity(min: Quantity, minText: string, what: string) {
  return z.string().transform((s, ctx) => {
    const q = parseQuantity(s);
    if (q === null) {
      ctx.issues.push({ code: 'custom', input: s, message: `must be a Kubernetes quantity such as ${what} (got ${JSON.stringify(s)})` });
      return z.NEVER;
    }
    if (!quantityAtLeast(q, min)) {
      ctx.issues.push({ code: 'custom', input: s, message: `must be ≥ ${minText} (got ${s})` });
      return z.NEVER;
    }
    return q;
  });
}
const cpuQuantity = quantity(parseQuantity('20m')!, '20m', '"200m", "1" or "0.5"');
// Cortex took cpu as a string, an int or a float; numbers are read as their decimal text.
const cpu = z.union([z.string(), z.number()], { error: (iss) => `must be a quantity string or a number (got ${describeValue(iss.input)})` })
  .transform((v) => (typeof v === 'number' ? String(v) : v))
  .pipe(cpuQuantity);
const mem = z
  .string({ error: (iss) => `must be a string such as "1Gi" or "512Mi" (got ${describeValue(iss.input)}; write it in quotes: "${String(iss.input)}")` })
  .pipe(quantity(parseQuantity('20Mi')!, '20Mi', '"1Gi", "512Mi" or "1G"'));

/**
 * max_surge / max_unavailable: an int ≥ 0, "N%" with 0 ≤ N ≤ 100, or an int ≥ 0
 * as a string; N and the string form are read with Go's ParseInt(s, 10, 32)
 * (Cortex s.ParseInt32), so they must fit in an int32 too.
 */
const fitsInt32 = (digits: string) => GO_INT.test(digits) && Math.abs(Number(digits)) < 2 ** 31;
const surge = z.union([z.int(), z.string()], { error: (iss) => `must be an integer or a percentage such as "25%" (got ${describeValue(iss.input)})` }).superRefine((v, ctx) => {
  const bad = (message: string) => ctx.addIssue({ code: 'custom', input: v, message });
  if (typeof v === 'number') {
    if (!check(int32, v).ok) bad(`must fit in a 32-bit signed integer (got ${v})`);
    else if (v < 0) bad(`must be ≥ 0 (got ${v})`);
    return;
  }
  if (v.endsWith('%')) {
    const n = v.slice(0, -1);
    if (!fitsInt32(n) || Number(n) < 0 || Number(n) > 100) bad(`must be a percentage from "0%" to "100%" (got ${JSON.stringify(v)})`);
  } else if (!fitsInt32(v) || Number(v) < 0) {
    bad(`must be an integer ≥ 0 or a percentage such as "25%" (got ${JSON.stringify(v)})`);
  }
});
const isZeroSurge = (v: number | string) => (typeof v === 'number' ? v === 0 : Number(v.endsWith('%') ? v.slice(0, -1) : v) === 0);

/** Everything about one item that resolve.ts needs besides the resolved value. */
export interface ApiReading {
  /** the `name` value when it is a non-empty string (even an invalid one), for error labels */
  label: string | null;
  /** valid name, for duplicate checks */
  name: string | null;
  /** valid canonical endpoint (given or defaulted), for duplicate checks */
  endpoint: string | null;
  /** whether `endpoint` was written (else it is the default /<name>) */
  endpointWritten: boolean;
  api: ResolvedApi | null;
}

export function readApi(item: unknown, projectDir: string, report: Report): ApiReading {
  const rawMap = toMapping(item);
  const rawName = rawMap?.get('name');
  const label = typeof rawName === 'string' && rawName !== '' ? rawName : null;
  const top = readSection(item, [], API_KEYS, report);
  if (!isValid(top)) return { label, name: null, endpoint: null, endpointWritten: false, api: null };

  const apiName = readField(top, ['name'], name, report, { required: true });
  const givenEndpoint = readField(top, ['endpoint'], endpoint, report);
  let endpointV = givenEndpoint !== undefined ? givenEndpoint : isValid(apiName) ? `/${apiName}` : INVALID;
  const route = isValid(endpointV) ? reservedRoute(endpointV) : undefined;
  if (isValid(endpointV) && route !== undefined) {
    if (givenEndpoint !== undefined) report(['endpoint'], `${JSON.stringify(endpointV)} is the server's own route, ${route}: choose another endpoint`);
    else report(['endpoint'], `an API named ${JSON.stringify(apiName)} would be served at ${endpointV}, the server's own route ${route}: rename the API or set endpoint: to another path`, { at: ['name'] });
    endpointV = INVALID;
  }
  const predictor = readPredictor(top.get('predictor'), top.has('predictor'), projectDir, report);
  const tracker = readTracker(top.get('tracker'), report);
  const compute = readCompute(top.get('compute'), report);
  const autoscaling = readAutoscaling(top.get('autoscaling'), report);
  const updateStrategy = readUpdateStrategy(top.get('update_strategy'), report);

  const reading: ApiReading = {
    label,
    name: isValid(apiName) ? apiName : null,
    endpoint: isValid(endpointV) ? endpointV : null,
    endpointWritten: givenEndpoint !== undefined,
    api: null,
  };
  if (isValid(apiName) && isValid(endpointV) && predictor && tracker !== INVALID && compute && autoscaling && updateStrategy) {
    reading.api = { name: apiName, endpoint: endpointV, predictor, tracker, compute, autoscaling, update_strategy: updateStrategy };
  }
  return reading;
}

function readPredictor(raw: unknown, present: boolean, projectDir: string, report: Report): ResolvedApi['predictor'] | null {
  if (!present) {
    report(['predictor'], 'must be defined');
    return null;
  }
  const section = readSection(raw, ['predictor'], PREDICTOR_KEYS, report);
  if (!isValid(section)) return null;
  const at = (key: string, message: string) => report(['predictor', key], message);

  const type = readField(section, ['predictor', 'type'], predictorType, report, { required: true });
  const path = readField(section, ['predictor', 'path'], nonEmptyString, report, { required: true });
  const model = readField(section, ['predictor', 'model'], nonEmptyString, report);
  const signatureKey = readField(section, ['predictor', 'signature_key'], nonEmptyString, report);
  const pythonPath = readField(section, ['predictor', 'python_path'], nonEmptyString, report);
  const config = readConfigMapping(section, report);
  const env = readEnv(section, report);

  let ok = [type, path, model, signatureKey, pythonPath].every((v) => v !== INVALID) && config !== null && env !== null;
  const pathOutside = isValid(path) ? outsideProject(path, projectDir) : null;
  if (pathOutside !== null) {
    at('path', pathOutside);
    ok = false;
  } else if (isValid(path) && !isFile(resolvePath(projectDir, path))) {
    at('path', `implementation file does not exist: ${JSON.stringify(path)} (looked for ${resolvePath(projectDir, path)})`);
    ok = false;
  }
  let pythonPathV = projectDir;
  const pythonPathOutside = isValid(pythonPath) ? outsideProject(pythonPath, projectDir) : null;
  if (pythonPathOutside !== null) {
    at('python_path', pythonPathOutside);
    ok = false;
  } else if (isValid(pythonPath)) {
    pythonPathV = resolvePath(projectDir, pythonPath);
    if (!isDirectory(pythonPathV)) {
      at('python_path', `must be an existing folder (${pythonPathV} is not one)`);
      ok = false;
    } else if (!holdsAFile(pythonPathV)) {
      at('python_path', `the folder ${pythonPathV} holds no files`);
      ok = false;
    }
  }
  let modelV: string | null = isValid(model) ? model : null;
  if (isValid(type)) {
    if (type === 'python' && isValid(model)) {
      at('model', 'is not a supported field for the python predictor type (load files from predictor.config instead)');
      ok = false;
    }
    if (type !== 'python' && model === undefined) {
      at('model', `must be defined for the ${type} predictor type`);
      ok = false;
    }
    if (type !== 'tensorflow' && isValid(signatureKey)) {
      at('signature_key', `is not a supported field for the ${type} predictor type`);
      ok = false;
    }
    if (type !== 'python' && isValid(model)) {
      const resolved = resolveModel(type, model, projectDir);
      if (typeof resolved === 'string') modelV = resolved;
      else {
        at('model', resolved.error);
        ok = false;
      }
    }
  }
  if (!ok || !isValid(type) || !isValid(path)) return null;
  return {
    type,
    path,
    model: modelV,
    signature_key: isValid(signatureKey) ? signatureKey : null,
    config: config!,
    python_path: pythonPathV.length > 1 && pythonPathV.endsWith('/') ? pythonPathV.slice(0, -1) : pythonPathV,
    env: env!,
  };
}

/**
 * Why a predictor path cannot be used, or null. Cortex 0.15 looked `path` and
 * `python_path` up among the project's files, keyed by their path relative to
 * the project folder: an absolute path never named one, and nothing outside
 * the folder was deployed. Both are refused here, before anything starts.
 */
function outsideProject(path: string, projectDir: string): string | null {
  if (isAbsolute(path)) {
    return `must be a path relative to the project folder ${projectDir} (got the absolute path ${JSON.stringify(path)}); Cortex 0.15 looked it up among the project's files, where an absolute path names none`;
  }
  const rel = relative(projectDir, resolvePath(projectDir, path));
  if (rel === '..' || rel.startsWith(`..${sep}`)) {
    return `leaves the project folder ${projectDir} (${JSON.stringify(path)} is ${resolvePath(projectDir, path)}): only the project's own files are served, as Cortex deployed only them; move the file into the folder`;
  }
  return null;
}

function resolveModel(type: PredictorType, model: string, projectDir: string): string | { error: string } {
  if (model.startsWith('s3://')) {
    const [bucket, key] = model.slice('s3://'.length).split('/');
    return bucket && key ? model : { error: `must be a valid S3 path such as "s3://bucket/key" (got ${JSON.stringify(model)})` };
  }
  const local = isAbsolute(model) ? model : resolvePath(projectDir, model);
  if (type === 'onnx') return isFile(local) ? local : { error: `ONNX model file does not exist: ${local}` };
  return (
    findTensorFlowModel(local) ?? {
      error: `${local} is not a TensorFlow SavedModel: expected a .zip file, a folder holding saved_model.pb and variables/, or a folder of numbered versions of one`,
    }
  );
}

/** predictor.config: free-form, but every mapping key at every depth must be a string (Cortex StringKeysOnly). */
function readConfigMapping(section: Mapping, report: Report): Record<string, unknown> | null {
  const config = readSection(section.get('config'), ['predictor', 'config'], FREE_FORM, report);
  if (config === undefined) return {};
  if (config === INVALID) return null;
  let ok = true;
  const convert = (v: unknown, path: string[]): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => convert(x, [...path, String(i)]));
    if (v instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v) {
        if (typeof k !== 'string') {
          const yaml11 = typeof k === 'boolean' ? ': YAML 1.1 reads y/n, yes/no and on/off as booleans' : '';
          report([...path, String(k)], `keys must be strings (got ${describeValue(k)}${yaml11}); quote the key`, { key: true });
          ok = false;
          continue;
        }
        out[k] = convert(x, [...path, k]);
      }
      return out;
    }
    return v;
  };
  const out = convert(config, ['predictor', 'config']) as Record<string, unknown>;
  return ok ? out : null;
}

function readEnv(section: Mapping, report: Report): Record<string, string> | null {
  const env = readSection(section.get('env'), ['predictor', 'env'], FREE_FORM, report);
  if (env === undefined) return {};
  if (env === INVALID) return null;
  const out: Record<string, string> = {};
  let ok = true;
  for (const [key, value] of env) {
    const path = ['predictor', 'env', String(key)];
    if (typeof key !== 'string') {
      report(path, `names must be strings (got ${describeValue(key)})`, { key: true });
      ok = false;
    } else if (key.startsWith('CORTEX_') && !ALLOWED_CORTEX_ENV.has(key)) {
      report(path, 'environment variables starting with CORTEX_ are reserved', { key: true });
      ok = false;
    } else if (typeof value !== 'string') {
      report(path, `must be a string (got ${describeValue(value)}); write it in quotes`);
      ok = false;
    } else {
      out[key] = value;
    }
  }
  return ok ? out : null;
}

function readTracker(raw: unknown, report: Report): ResolvedApi['tracker'] | typeof INVALID {
  const section = readSection(raw, ['tracker'], TRACKER_KEYS, report);
  if (section === undefined) return null;
  if (section === INVALID) return INVALID;
  const key = readField(section, ['tracker', 'key'], nonEmptyString, report);
  const type = readField(section, ['tracker', 'model_type'], modelType, report, { required: true });
  if (key === INVALID || !isValid(type)) return INVALID;
  return { key: key ?? null, model_type: type };
}

function readCompute(raw: unknown, report: Report): ResolvedApi['compute'] | null {
  const section = readSection(raw, ['compute'], COMPUTE_KEYS, report);
  if (section === INVALID) return null;
  const cpuV = readField(section, ['compute', 'cpu'], cpu, report);
  const memV = readField(section, ['compute', 'mem'], mem, report);
  const gpuV = readField(section, ['compute', 'gpu'], int64.gte(0), report, { integer: true });
  if (cpuV === INVALID || memV === INVALID || gpuV === INVALID) return null;
  return {
    cpu: cpuV === undefined ? 0.2 : quantityToNumber(cpuV),
    gpu: gpuV ?? 0,
    mem: memV === undefined ? null : quantityCeil(memV),
  };
}

function readUpdateStrategy(raw: unknown, report: Report): ResolvedApi['update_strategy'] | null {
  const section = readSection(raw, ['update_strategy'], UPDATE_KEYS, report);
  if (section === INVALID) return null;
  // Cortex's CastInt turns a YAML int into its string; a float (even `2.0`) is a type error.
  const maxSurge = readField(section, ['update_strategy', 'max_surge'], surge, report, { integer: true });
  const maxUnavailable = readField(section, ['update_strategy', 'max_unavailable'], surge, report, { integer: true });
  if (maxSurge === INVALID || maxUnavailable === INVALID) return null;
  const value = { max_surge: maxSurge ?? '25%', max_unavailable: maxUnavailable ?? '25%' };
  if (isZeroSurge(value.max_surge) && isZeroSurge(value.max_unavailable)) {
    report(['update_strategy'], 'max_surge and max_unavailable cannot both be zero: an update could never make progress');
    return null;
  }
  return value;
}

