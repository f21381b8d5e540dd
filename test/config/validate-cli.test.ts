// `cortex-local validate [PATH] [--json]` as a user runs it (spec/config.md
// §1, issue 3 "Bad input"): bin/cortex-local as a subprocess on the fixture
// folders in test/fixtures/config and on generated files; exit codes, --json
// output, the compiler-style human format, one-line errors, no stack traces.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_AUTOSCALING, makeProject, minimalIrisApi, PREDICTOR_PY, removeProject } from './project.ts';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'cortex-local');
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'config');
const fixture = (name: string) => join(fixtures, name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function validate(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, ['validate', ...args], { cwd, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** No stack trace anywhere, whatever happened. */
function assertNoStack(r: Run) {
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'a stack trace leaked');
  assert.doesNotMatch(r.stderr, /internal error/);
}

/** exit 2: nothing on stdout, exactly one line on stderr; returns that line. */
function assertExit2(r: Run): string {
  assert.equal(r.code, 2, `expected exit 2, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assertNoStack(r);
  assert.match(r.stderr, /^cortex-local: [^\n]+\n$/, `expected one line on stderr, got ${JSON.stringify(r.stderr)}`);
  return r.stderr.trimEnd();
}

interface JsonError {
  api: string | null;
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** exit 1 with --json: stdout is one JSON object {"ok": false, "errors": [...]}. */
function invalidJson(r: Run): JsonError[] {
  assert.equal(r.code, 1, `expected exit 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assertNoStack(r);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as { ok: boolean; errors: JsonError[] };
  assert.deepEqual(Object.keys(out).sort(), ['errors', 'ok']);
  assert.equal(out.ok, false);
  for (const e of out.errors) {
    assert.ok(e.api === null || typeof e.api === 'string');
    assert.equal(typeof e.path, 'string');
    assert.equal(typeof e.message, 'string');
    assert.ok(Number.isInteger(e.line) && e.line! >= 1);
    assert.ok(Number.isInteger(e.column) && e.column! >= 1);
  }
  return out.errors;
}

function expectedValidApis(dir: string) {
  return [
    minimalIrisApi(dir),
    {
      name: 'text-gen',
      endpoint: '/generate',
      predictor: {
        type: 'python',
        path: 'predictor.py',
        model: null,
        signature_key: null,
        config: { labels: ['a', 'b'], threshold: 0.5, on: false },
        python_path: join(dir, 'src'),
        env: { MODEL_NAME: 'gpt', CORTEX_LOCAL_TF_MEMORY_LIMIT_MB: '512' },
      },
      tracker: { key: null, model_type: 'classification' },
      compute: { cpu: 1.5, gpu: 1, mem: 2147483648 },
      autoscaling: { ...DEFAULT_AUTOSCALING, min_replicas: 2, init_replicas: 2, workers_per_replica: 2, threads_per_worker: 4, target_replica_concurrency: 8, window: 150 },
      update_strategy: { max_surge: 1, max_unavailable: '0%' },
    },
  ];
}

let tmp = '';
before(() => {
  tmp = makeProject({
    'elsewhere/.keep': '',
    'bom-crlf/predictor.py': PREDICTOR_PY,
    'bom-crlf/cortex.yaml': '\ufeff- name: a\r\n  predictor:\r\n    type: python\r\n    path: predictor.py\r\n',
    'latin1/predictor.py': PREDICTOR_PY,
    'big/predictor.py': PREDICTOR_PY,
    'at-cap/predictor.py': PREDICTOR_PY,
    'other-name/predictor.py': PREDICTOR_PY,
    'other-name/my-apis.yaml': `- name: x\n  predictor: {type: python, path: predictor.py}\n`,
    'dir-named-cortex.yaml/cortex.yaml/.keep': '',
  });
  // `é` in Latin-1 is the single byte 0xE9: invalid UTF-8 at line 2, column 17
  writeFileSync(join(tmp, 'latin1', 'cortex.yaml'), Buffer.concat([Buffer.from('- name: a\n  endpoint: /caf'), Buffer.from([0xe9]), Buffer.from('\n  predictor: {type: python, path: predictor.py}\n')]));
  const cap = 4 * 1024 * 1024;
  const comment = (bytes: number) => '#'.repeat(bytes - 1) + '\n';
  writeFileSync(join(tmp, 'big', 'cortex.yaml'), `- name: a\n  predictor: {type: python, path: predictor.py}\n${comment(cap)}`);
  const head = `- name: a\n  predictor: {type: python, path: predictor.py}\n`;
  writeFileSync(join(tmp, 'at-cap', 'cortex.yaml'), head + comment(cap - Buffer.byteLength(head)));
});
after(() => removeProject(tmp));

describe('valid → exit 0', { concurrency: 4 }, () => {
  test('default ./cortex.yaml from the cwd, human output', async () => {
    const r = await validate([], fixture('valid'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'cortex.yaml: 2 APIs valid: iris (/iris), text-gen (/generate)\n');
  });
  test('--json: exactly one object {"ok": true, "apis": [...]}, every field resolved', async () => {
    const r = await validate(['--json'], fixture('valid'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout), { ok: true, apis: expectedValidApis(fixture('valid')) });
  });
  test('PATH a folder, from another cwd: paths resolve against the project folder', async () => {
    const r = await validate([fixture('valid'), '--json'], join(tmp, 'elsewhere'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).apis, expectedValidApis(fixture('valid')));
  });
  test('PATH a relative folder', async () => {
    const r = await validate(['--json', 'valid'], fixtures);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).apis, expectedValidApis(fixture('valid')));
  });
  test('PATH a file, relative; human output names it', async () => {
    const r = await validate(['valid/cortex.yaml'], fixtures);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${join('valid', 'cortex.yaml')}: 2 APIs valid: iris (/iris), text-gen (/generate)\n`);
  });
  test('PATH a file with another name: its folder is the project folder', async () => {
    const r = await validate(['other-name/my-apis.yaml', '--json'], tmp);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).apis[0].predictor.python_path, join(tmp, 'other-name'));
  });
  test('a UTF-8 BOM and CRLF line endings are fine', async () => {
    const r = await validate(['--json'], join(tmp, 'bom-crlf'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).apis[0].name, 'a');
  });
  test('a file of exactly 4 MiB is read (the cap is not off by one)', async () => {
    const r = await validate(['--json'], join(tmp, 'at-cap'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).apis[0].name, 'a');
  });
  test('--help: usage on stdout, exit 0', async () => {
    const r = await validate(['--help'], tmp);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: cortex-local validate \[PATH\] \[--json\]/);
  });
});

describe('invalid → exit 1', { concurrency: 4 }, () => {
  test('--json: every error with api, path, message, line and column, in file order', async () => {
    const errors = invalidJson(await validate(['--json'], fixture('invalid')));
    assert.deepEqual(
      errors.map((e) => [e.api, e.path, e.line, e.column]),
      [
        ['a', 'autoscaling.min_replicas', 3, 31],
        ['a', 'autoscaling.init_replicas', 3, 31],
        ['a', 'autoscaling.window', 3, 59],
        ['a', 'compute.cpu', 4, 18],
        ['Bad_Name', 'name', 5, 9],
        ['Bad_Name', 'autoscale', 9, 3],
      ],
    );
    assert.match(errors[0].message, /must be ≤ max_replicas \(got 4 > 2\)/);
    assert.match(errors[5].message, /did you mean "autoscaling"\?/);
  });
  test('human output: FILE:LINE:COL  api "NAME": path: message, one line each, on stderr', async () => {
    const r = await validate([], fixture('invalid'));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assertNoStack(r);
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(lines, [
      'cortex.yaml:3:31  api "a": autoscaling.min_replicas: must be ≤ max_replicas (got 4 > 2)',
      'cortex.yaml:3:31  api "a": autoscaling.init_replicas: must be ≤ max_replicas (got 4 > 2; init_replicas defaults to min_replicas)',
      'cortex.yaml:3:59  api "a": autoscaling.window: must be a whole multiple of 10s, the autoscaler tick (got 45s)',
      'cortex.yaml:4:18  api "a": compute.cpu: must be ≥ 20m (got 5m)',
      `cortex.yaml:5:9  api "Bad_Name": name: must be a valid DNS-1035 label: lowercase letters, digits and '-', starting with a letter and not ending with '-' (got "Bad_Name")`,
      'cortex.yaml:9:3  api "Bad_Name": autoscale: key "autoscale" is not supported (did you mean "autoscaling"?)',
      '6 errors in cortex.yaml',
    ]);
    for (const line of lines.slice(0, -1)) assert.match(line, /^cortex\.yaml:\d+:\d+  api "[^"]+": [a-z_.]+: .+$/);
  });
  test('human output names the file as reached from the cwd', async () => {
    const r = await validate([join('test', 'fixtures', 'config', 'invalid')], root);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.startsWith(`${join('test', 'fixtures', 'config', 'invalid', 'cortex.yaml')}:3:31  api "a": `), r.stderr);
  });
  test('spec example 7: a mapping, not a list', async () => {
    const r = await validate(['--json'], fixture('example-7'));
    const errors = invalidJson(r);
    assert.deepEqual(
      errors.map(({ api, path, message }) => ({ api, path, message })),
      [{ api: null, path: '', message: 'cortex.yaml must contain a list of maps' }],
    );
    assert.deepEqual(JSON.parse(r.stdout), { ok: false, errors: [{ api: null, path: '', message: 'cortex.yaml must contain a list of maps', line: 1, column: 1 }] });
  });
  test('spec example 7, human output', async () => {
    const r = await validate([], fixture('example-7'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'cortex.yaml:1:1  cortex.yaml must contain a list of maps\n1 error in cortex.yaml\n');
  });
  for (const name of ['empty', 'only-comments', 'empty-list']) {
    test(`${name}: at least one API must be configured`, async () => {
      const errors = invalidJson(await validate(['--json'], fixture(name)));
      assert.deepEqual(
        errors.map(({ api, path, message }) => ({ api, path, message })),
        [{ api: null, path: '', message: 'at least one API must be configured' }],
      );
    });
  }
  test('empty, human output: one error line naming the file and position', async () => {
    const r = await validate([], fixture('empty'));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'cortex.yaml:1:1  at least one API must be configured\n1 error in cortex.yaml\n');
  });
  test('a scalar: must contain a list of maps', async () => {
    const errors = invalidJson(await validate(['--json'], fixture('scalar')));
    assert.deepEqual(errors.map(({ api, path }) => [api, path]), [[null, '']]);
    assert.match(errors[0].message, /must contain a list of maps/);
  });
  test('a list item that is not a mapping', async () => {
    const errors = invalidJson(await validate(['--json'], fixture('not-a-list-item')));
    assert.deepEqual(
      errors.map(({ api, path, line, column }) => [api, path, line, column]),
      [[null, '', 3, 3]],
    );
    assert.match(errors[0].message, /API #2 must be a mapping/);
  });
  test('a YAML syntax error: invalid yaml, with its position', async () => {
    const errors = invalidJson(await validate(['--json'], fixture('syntax-error')));
    assert.equal(errors.length, 1);
    assert.deepEqual([errors[0].api, errors[0].path, errors[0].line, errors[0].column], [null, '', 2, 47]);
    assert.match(errors[0].message, /^invalid yaml: /);
  });
  test('a YAML syntax error, human output: one line with the position', async () => {
    const r = await validate([], fixture('syntax-error'));
    assert.equal(r.code, 1);
    assertNoStack(r);
    const [first, summary] = r.stderr.trimEnd().split('\n');
    assert.match(first, /^cortex\.yaml:2:47  invalid yaml: .+/);
    assert.equal(summary, '1 error in cortex.yaml');
  });
});

describe('unreadable file or bad usage → exit 2, one line on stderr', { concurrency: 4 }, () => {
  // --json changes nothing here: the same line on stderr, nothing on stdout (checked on the first three)
  for (const json of [false, true]) {
    const args = json ? ['--json'] : [];
    const label = json ? ' (--json)' : '';
    const both = (name: string, fn: () => Promise<void>) => test(`${name}${label}`, fn);
    const once = (name: string, fn: () => Promise<void>) => (json ? undefined : test(name, fn));
    both('a non-UTF-8 file: file and line:col', async () => {
      const line = assertExit2(await validate(args, join(tmp, 'latin1')));
      assert.match(line, /^cortex-local: cortex\.yaml:2:17: not valid UTF-8/);
    });
    both('a file over 4 MiB', async () => {
      const line = assertExit2(await validate(args, join(tmp, 'big')));
      assert.match(line, /^cortex-local: cortex\.yaml: file is 4\.0 MiB; a cortex\.yaml may be at most 4 MiB$/);
    });
    both('a missing file', async () => {
      assert.equal(assertExit2(await validate([...args, 'nope.yaml'], tmp)), 'cortex-local: nope.yaml: no such file or folder');
    });
    once('a missing folder', async () => {
      assert.equal(assertExit2(await validate([...args, 'no/such/dir'], tmp)), 'cortex-local: no/such/dir: no such file or folder');
    });
    once('no ./cortex.yaml in the cwd', async () => {
      assert.equal(assertExit2(await validate(args, join(tmp, 'elsewhere'))), 'cortex-local: cortex.yaml: no such file or folder');
    });
    once('a folder without cortex.yaml', async () => {
      const line = assertExit2(await validate([...args, 'no-config'], fixtures));
      assert.equal(line, 'cortex-local: no-config: the folder holds no cortex.yaml');
    });
  }
  test('./cortex.yaml that is a folder without a cortex.yaml', async () => {
    assert.equal(assertExit2(await validate([], join(tmp, 'dir-named-cortex.yaml'))), 'cortex-local: cortex.yaml: the folder holds no cortex.yaml');
  });
  test('PATH a device, not a file', async () => {
    assert.equal(assertExit2(await validate(['/dev/null'], tmp)), 'cortex-local: /dev/null: not a regular file');
  });
  test('an unknown option', async () => {
    assert.match(assertExit2(await validate(['--bogus'], fixture('valid'))), /^cortex-local: validate: unknown option --bogus; 'cortex-local validate --help' lists the options$/);
  });
  test('--json given a value', async () => {
    assert.match(assertExit2(await validate(['--json=yes'], fixture('valid'))), /--json/);
  });
  test('too many arguments', async () => {
    assert.equal(assertExit2(await validate(['a', 'b'], fixture('valid'))), 'cortex-local: validate takes one PATH, got 2: a b');
  });
});

test('fixtures are where the tests expect them', () => {
  assert.equal(relative(root, fixtures), join('test', 'fixtures', 'config'));
});
