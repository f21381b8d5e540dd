// `serve` reads cortex.yaml in a short-lived child process. The YAML parser and
// the schema checker stay resident once imported (ES modules are never
// unloaded), and the server never needs them again: reading the config out of
// process keeps ≈ 12 MB off a 10-API server's idle RSS (bench, rss scenario).
// A worker thread was measured as well: the memory of its isolate is not given
// back when it ends, so RSS went up instead.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { deserialize } from 'node:v8';
import { ConfigError, ConfigFileError, type ConfigIssue } from '../errors.ts';
import { configReaderCommand } from '../own-files.ts';
import type { ResolvedConfig } from './types.ts';

/** What the child writes to its stdout, with node:v8's serializer (lossless for .inf, .nan and the like). */
export type ChildOutcome =
  | { ok: true; config: ResolvedConfig }
  | { ok: false; kind: 'invalid'; file: string; issues: ConfigIssue[] }
  | { ok: false; kind: 'unreadable'; file: string; message: string };

/** loadConfig, run in a child process: resolves to the same config and throws the same ConfigError / ConfigFileError. */
export function loadConfigIsolated(pathArg: string | undefined, cwd = process.cwd()): Promise<ResolvedConfig> {
  return new Promise((resolve, reject) => {
    // The child's stderr is ours: a crash in it shows its own stack trace.
    const reader = configReaderCommand();
    const described = [reader.command, ...reader.args].join(' ');
    const child = spawn(reader.command, [...reader.args, cwd, ...(pathArg === undefined ? [] : [pathArg])], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: reader.env,
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`the config reader (${described}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`));
        return;
      }
      let outcome: ChildOutcome;
      try {
        outcome = deserialize(Buffer.concat(chunks)) as ChildOutcome;
      } catch (err) {
        reject(new Error(`the config reader (${described}) wrote an unreadable answer`, { cause: err }));
        return;
      }
      if (outcome.ok) resolve(outcome.config);
      else if (outcome.kind === 'invalid') reject(new ConfigError(outcome.file, outcome.issues));
      else reject(new ConfigFileError(outcome.file, outcome.message));
    });
  });
}
