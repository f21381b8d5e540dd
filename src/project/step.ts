// One setup step of a project (pip, dependencies.sh): a command whose output
// is shown line by line as it comes, and whose last lines make its error.
import { spawn } from 'node:child_process';

/** output lines kept for the error of a failed step */
const TAIL_LINES = 12;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
  tail: string[];
}

/** Runs a command, passing each output line on as it comes and keeping the last ones. */
export function run(command: string, args: string[], cwd: string, output: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const onLines = (stream: NodeJS.ReadableStream) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split(/\r?\n|\r/);
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          output(line);
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
        }
      });
    };
    onLines(child.stdout);
    onLines(child.stderr);
    child.once('error', (error) => resolve({ code: null, signal: null, error, tail }));
    child.once('close', (code, signal) => resolve({ code, signal, tail }));
  });
}

/** The error of a failed step: a summary as its first line (what a 503 quotes), the output's last lines, the command to reproduce. */
export function failure(subject: string, reproduce: string, what: string, r: RunResult): string {
  const how = r.error ? `could not start: ${r.error.message}` : r.signal ? `was killed by ${r.signal}` : `exited with ${r.code}`;
  const lines = r.tail.map((l) => `  ${l}`);
  const last = r.tail.filter((l) => /error/i.test(l)).at(-1) ?? r.tail.at(-1) ?? how;
  return [`${subject} (${what} ${how}): ${last.trim()}`, `${what}'s last lines:`, ...lines, `to reproduce: ${reproduce}`].join('\n');
}

