// Every command's --help (with an example line) and --version, and unknown
// options and commands answered with the closest name, as a user types them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../helpers/server.ts';

const repo = join(import.meta.dirname, '..', '..');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(BIN, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code) : 0, stdout, stderr });
    });
  });
}

const COMMANDS = ['serve', 'validate', 'simulate', 'get', 'logs', 'predict', 'export', 'deploy', 'refresh', 'delete'];

test('--help on every command: usage, options and an example line, exit 0', async () => {
  for (const command of COMMANDS) {
    const r = await run([command, '--help']);
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`^usage: cortex-local ${command}`), command);
    assert.match(r.stdout, new RegExp(`^example: cortex-local ${command} \\S`, 'm'), command);
  }
  const top = await run(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /^example: cortex-local serve examples\/hello$/m);
});

test('--version on every command prints the package version, exit 0', async () => {
  const { version } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ...COMMANDS.map((c) => [c, '--version'])]) {
    assert.deepEqual(await run(args), { code: 0, stdout: `${version}\n`, stderr: '' }, args.join(' '));
  }
});

test('an unknown option names the closest one; an unknown command the closest command; exit 2', async () => {
  const cases: [string[], string][] = [
    [['serve', '--prot', '80'], "cortex-local: serve: unknown option --prot (did you mean --port?); 'cortex-local serve --help' lists the options\n"],
    [['serve', '--no-instal'], "cortex-local: serve: unknown option --no-instal (did you mean --no-install?); 'cortex-local serve --help' lists the options\n"],
    [['get', '--jsn'], "cortex-local: get: unknown option --jsn (did you mean --json?); 'cortex-local get --help' lists the options\n"],
    [['validate', '--jsno'], "cortex-local: validate: unknown option --jsno (did you mean --json?); 'cortex-local validate --help' lists the options\n"],
    [['get', '--colour'], "cortex-local: get: unknown option --colour; 'cortex-local get --help' lists the options\n"],
  ];
  for (const [args, stderr] of cases) assert.deepEqual(await run(args), { code: 2, stdout: '', stderr }, args.join(' '));
  const command = await run(['sevre']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /^cortex-local: unknown command "sevre" \(did you mean "serve"\?\)\n/);
});
