// `cortex-local predict API FILE.json|-`: sends a JSON file (or stdin) to the
// API as Cortex's `predict` did, prints the answer, exits 1 unless it is 2xx.
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import type { ApiSummary } from '../http/status.ts';
import { parseCommand } from './args.ts';
import { call, CLIENT_HELP, CLIENT_OPTIONS, getJson, serverOf } from './client.ts';

const help = `usage: cortex-local predict API FILE.json [options]

Sends FILE.json (- for stdin) to the API's endpoint and prints the prediction.
Exits 1 when the answer is not 2xx (its error goes to stderr).

options:
${CLIENT_HELP}
  --debug        predict with debug mode: the server logs the payload and the prediction
  --help, --version

example: cortex-local predict iris sample.json`;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a JSON file',
  EACCES: 'permission denied',
};

export async function predict(argv: string[]): Promise<number> {
  const parsed = parseCommand('predict', argv, { ...CLIENT_OPTIONS, debug: { type: 'boolean', default: false } }, help);
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw new UsageError(`predict takes an API name and a JSON file (got ${positionals.length} argument${positionals.length === 1 ? '' : 's'})\n\n${help}`);
  const [name, file] = positionals;
  let body: Buffer;
  try {
    body = file === '-' ? await readStdin() : await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(`cortex-local: cannot read ${file}: ${code !== undefined && code in FILE_ERRORS ? FILE_ERRORS[code] : (err as Error).message}\n`);
    return 2;
  }
  const where = file === '-' ? 'stdin' : file;
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    process.stderr.write(`cortex-local: ${where} is not valid JSON: ${(err as Error).message}\n`);
    return 1;
  }
  const server = serverOf(values);
  const api = (await getJson(server, `/apis/${encodeURIComponent(name)}`)) as ApiSummary;
  const answer = await call(server, 'POST', `${api.endpoint}${values.debug ? '?debug=true' : ''}`, body);
  if (answer.status >= 200 && answer.status < 300) {
    process.stdout.write(answer.body);
    // A JSON answer ends its line, so the shell prompt starts on the next.
    if (!answer.contentType.startsWith('application/octet-stream') && answer.body.at(-1) !== 0x0a) process.stdout.write('\n');
    return 0;
  }
  process.stderr.write(`cortex-local: ${name} answered ${answer.status}: ${answer.body.toString('utf8').trimEnd()}\n`);
  return 1;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
