// A local S3 for tests: moto's server (test/fixtures/s3/s3_server.py) on a
// free loopback port, signatures checked, every request recorded.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { testPython } from './python.ts';

const SCRIPT = join(import.meta.dirname, '..', 'fixtures', 's3', 's3_server.py');

export interface S3Spec {
  buckets: Record<string, { public?: boolean }>;
  objects: { bucket: string; key: string; file: string }[];
  /** "bucket/key": served with its first byte flipped */
  corrupt?: string[];
  /** "bucket/key": the first GET ends halfway, the connection closed */
  cut_once?: string[];
}

export interface S3Request {
  method: string;
  path: string;
  query: string;
  /** the Range header, null without one */
  range: string | null;
  signed: boolean;
  status: number;
}

export interface LocalS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** every request since it started serving, in order */
  requests: S3Request[];
  /** uploads (or replaces) an object */
  put(bucket: string, key: string, file: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalS3(spec: S3Spec, workDir: string): Promise<LocalS3> {
  const specFile = join(workDir, 's3-spec.json');
  await writeFile(specFile, JSON.stringify(spec));
  const proc = spawn(testPython, [SCRIPT, specFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const requests: S3Request[] = [];
  const acks: (() => void)[] = [];
  const ready = new Promise<{ endpoint: string; access_key: string; secret_key: string }>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line);
      if ('endpoint' in msg) resolve(msg);
      else if ('ok' in msg) acks.shift()?.();
      else requests.push(msg as S3Request);
    });
    void exited.then(() => reject(new Error(`the local S3 exited before serving:\n${stderr}`)));
  });
  const info = await ready;
  return {
    endpoint: info.endpoint,
    accessKey: info.access_key,
    secretKey: info.secret_key,
    requests,
    put: (bucket, key, file) =>
      new Promise<void>((resolve) => {
        acks.push(resolve);
        proc.stdin.write(`put ${bucket} ${key} ${file}\n`);
      }),
    stop: async () => {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
