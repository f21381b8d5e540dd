// Real ONNX and TensorFlow models built at test time by
// test/fixtures/models/build_models.py, with the answers they must give.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testPython } from './python.ts';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 'models', 'build_models.py');

export interface OnnxExpected {
  inputs: number[][];
  scores: number[][];
  labels: number[];
}

export interface TensorFlowExpected {
  inputs: number[][];
  class_ids: number[];
  scores: number[];
  sum: { a: number[]; k: number; total: number };
}

/** OUT/model.onnx, a 4 -> 3 linear classifier whose weights come from `seed`; padMb adds dead weight. */
export async function buildOnnxModel(out: string, seed: number, padMb = 0): Promise<OnnxExpected> {
  await promisify(execFile)(testPython, [SCRIPT, 'onnx', out, String(seed), String(padMb)]);
  return JSON.parse(await readFile(join(out, 'expected.json'), 'utf8'));
}

/** OUT/model (signatures predict and sum), OUT/versions/{1,2}. */
export async function buildTensorFlowModel(out: string): Promise<TensorFlowExpected> {
  await promisify(execFile)(testPython, [SCRIPT, 'tensorflow', out], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  return JSON.parse(await readFile(join(out, 'expected.json'), 'utf8'));
}

/** Float answers from float32 models: equal to numpy's within float32 rounding. */
export function assertClose(actual: number[], expected: number[], what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  actual.forEach((a, i) => {
    if (Math.abs(a - expected[i]) > 1e-5 * Math.max(1, Math.abs(expected[i]))) throw new Error(`${what}[${i}]: ${a}, expected ${expected[i]}`);
  });
}
