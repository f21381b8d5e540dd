// What cortex.yaml may not ask of the server (issue 12): endpoints on the
// server's own routes or with dot segments, predictor paths outside the
// project folder or absolute, and tab indentation, each one error at its
// line:column, through resolveConfigText and through `validate` as users run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveConfigText } from '../../src/config/resolve.ts';
import type { ConfigIssue } from '../../src/errors.ts';
import { makeProject, PREDICTOR_PY, removeProject } from './project.ts';

let root = '';
let dir = '';
before(() => {
  // The project is a subfolder, so that files beside it exist and are still outside.
  root = makeProject({ 'outside.py': PREDICTOR_PY, 'outside-lib/x.py': '', 'p/predictor.py': PREDICTOR_PY, 'p/src/util.py': '' });
  dir = join(root, 'p');
});
after(() => removeProject(root));

function issuesOf(text: string): ConfigIssue[] {
  const r = resolveConfigText(text, join(dir, 'cortex.yaml'), dir);
  if (r.ok) assert.fail(`expected errors, got a valid config:\n${text}`);
  return r.issues;
}

function only(text: string): ConfigIssue {
  const issues = issuesOf(text);
  assert.equal(issues.length, 1, `expected one error, got:\n${issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`).join('\n')}`);
  return issues[0];
}

const at = (i: ConfigIssue) => `${i.line}:${i.column}`;
const PY = '  predictor: {type: python, path: predictor.py}\n';

describe("endpoints on the server's own routes", () => {
  for (const route of ['/healthz', '/readyz', '/metrics', 'healthz/', 'metrics']) {
    test(`endpoint: ${route} is refused at the endpoint`, () => {
      const issue = only(`- name: a\n  endpoint: ${route}\n${PY}`);
      assert.equal(issue.path, 'endpoint');
      assert.equal(issue.api, 'a');
      assert.match(issue.message, /is the server's own route, GET \/(healthz|readyz|metrics) .*: choose another endpoint/);
      assert.equal(at(issue), '2:13');
    });
  }
  for (const name of ['healthz', 'readyz', 'metrics']) {
    test(`an API named ${name} (endpoint defaulted from the name) is refused at the name`, () => {
      const issue = only(`- name: ${name}\n${PY}`);
      assert.equal(issue.path, 'endpoint');
      assert.match(issue.message, new RegExp(`an API named "${name}" would be served at /${name}, the server's own route GET /${name} .*rename the API or set endpoint: to another path`));
      assert.equal(at(issue), '1:9');
    });
  }
  for (const route of ['/apis', '/apis/iris', 'apis/iris/logs']) {
    test(`endpoint: ${route} is refused: the status routes live under /apis`, () => {
      const issue = only(`- name: a\n  endpoint: ${route}\n${PY}`);
      assert.equal(issue.path, 'endpoint');
      assert.match(issue.message, /is the server's own route, GET \/apis\/… \(the status routes: .*\): choose another endpoint$/);
    });
  }
  test('an API named apis is refused at the name; /apis-v2 is fine', () => {
    assert.match(only(`- name: apis\n${PY}`).message, /^an API named "apis" would be served at \/apis, the server's own route GET \/apis\/… /);
    const r = resolveConfigText(`- name: a\n  endpoint: /apis-v2\n${PY}`, join(dir, 'cortex.yaml'), dir);
    assert.ok(r.ok);
  });
  test('an API named healthz with an endpoint of its own is fine', () => {
    const r = resolveConfigText(`- name: healthz\n  endpoint: /health-model\n${PY}`, join(dir, 'cortex.yaml'), dir);
    assert.ok(r.ok);
    assert.equal(r.apis[0].endpoint, '/health-model');
  });
  test('a path below a built-in route is an endpoint like any other', () => {
    const r = resolveConfigText(`- name: a\n  endpoint: /metrics/v2\n${PY}`, join(dir, 'cortex.yaml'), dir);
    assert.ok(r.ok);
  });
  for (const endpoint of ['/_cortex-local', '_cortex-local/deploy', '/_cortex-local/x/y']) {
    test(`endpoint: ${endpoint}, under the admin routes, is refused`, () => {
      const issue = only(`- name: a\n  endpoint: ${endpoint}\n${PY}`);
      assert.equal(issue.path, 'endpoint');
      assert.match(issue.message, /is the server's own route, POST \/_cortex-local\/… \(deploy, refresh and delete requests\): choose another endpoint/);
      assert.equal(at(issue), '2:13');
    });
  }
  test('/_cortex-localx is an endpoint like any other', () => {
    assert.ok(resolveConfigText(`- name: a\n  endpoint: /_cortex-localx\n${PY}`, join(dir, 'cortex.yaml'), dir).ok);
  });
  test('a refused endpoint takes no part in the duplicate check (one error per mistake)', () => {
    const issues = issuesOf(`- name: a\n  endpoint: /healthz\n${PY}- name: healthz\n${PY}`);
    assert.deepEqual(issues.map((i) => [i.api, i.path, at(i)]), [['a', 'endpoint', '2:13'], ['healthz', 'endpoint', '4:9']]);
  });
});

describe('endpoints with dot segments', () => {
  for (const endpoint of ['/a/../b', '/a/./b', '..', '/x/..', './a', '/a/.']) {
    test(`${endpoint} is refused`, () => {
      const issue = only(`- name: a\n  endpoint: ${endpoint}\n${PY}`);
      assert.equal(issue.path, 'endpoint');
      assert.match(issue.message, /must not contain "\." or "\.\." path segments: HTTP clients resolve them before sending/);
      assert.equal(at(issue), '2:13');
    });
  }
  for (const endpoint of ['/a.b', '/v1.0/predict', '/.well', '/a..b']) {
    test(`${endpoint} (dots inside a segment) is fine`, () => {
      const r = resolveConfigText(`- name: a\n  endpoint: ${endpoint}\n${PY}`, join(dir, 'cortex.yaml'), dir);
      assert.ok(r.ok, JSON.stringify(r));
    });
  }
  for (const endpoint of ['"/a b"', '/a?b', '/a#b', '/a%2e', '"/a\\tb"']) {
    test(`${endpoint}: characters outside a URL path are refused`, () => {
      assert.match(only(`- name: a\n  endpoint: ${endpoint}\n${PY}`).message, /may contain only letters, digits and _ - \. \//);
    });
  }
});

describe('predictor paths stay in the project folder', () => {
  test('predictor.path ../outside.py (a file that exists) is refused as leaving the project', () => {
    const issue = only(`- name: a\n  predictor: {type: python, path: ../outside.py}\n`);
    assert.equal(issue.path, 'predictor.path');
    assert.match(issue.message, /^leaves the project folder .*\/p \("\.\.\/outside\.py" is .*\/outside\.py\)/);
    assert.equal(at(issue), '2:35');
  });
  test('predictor.path src/../../outside.py too', () => {
    assert.match(only(`- name: a\n  predictor: {type: python, path: src/../../outside.py}\n`).message, /^leaves the project folder/);
  });
  test('predictor.path src/../predictor.py stays inside and is fine', () => {
    const r = resolveConfigText(`- name: a\n  predictor: {type: python, path: src/../predictor.py}\n`, join(dir, 'cortex.yaml'), dir);
    assert.ok(r.ok);
  });
  test('an absolute predictor.path is refused, even naming a file inside the project (Cortex 0.15 rule)', () => {
    const issue = only(`- name: a\n  predictor: {type: python, path: ${join(dir, 'predictor.py')}}\n`);
    assert.equal(issue.path, 'predictor.path');
    assert.match(issue.message, /^must be a path relative to the project folder .* \(got the absolute path ".*predictor\.py"\); Cortex 0\.15 looked it up among the project's files/);
  });
  test('python_path ../outside-lib is refused; an absolute python_path too', () => {
    const out = only(`- name: a\n  predictor: {type: python, path: predictor.py, python_path: ../outside-lib}\n`);
    assert.equal(out.path, 'predictor.python_path');
    assert.match(out.message, /^leaves the project folder/);
    const abs = only(`- name: a\n  predictor: {type: python, path: predictor.py, python_path: ${join(dir, 'src')}}\n`);
    assert.equal(abs.path, 'predictor.python_path');
    assert.match(abs.message, /^must be a path relative to the project folder/);
  });
  test('python_path . and src are fine', () => {
    for (const p of ['.', 'src', './src/']) {
      const r = resolveConfigText(`- name: a\n  predictor: {type: python, path: predictor.py, python_path: ${p}}\n`, join(dir, 'cortex.yaml'), dir);
      assert.ok(r.ok, p);
    }
  });
});

describe('tabs', () => {
  test('a tab-indented key is one error at its line:column saying YAML forbids tabs', () => {
    const text = '- name: iris\n  predictor:\n\ttype: python\n    path: predictor.py\n  autoscaling:\n\tmin_replicas: 2\n';
    const issue = only(text);
    assert.equal(issue.message, 'invalid yaml: a tab indents this line: YAML forbids tabs for indentation; indent with spaces');
    assert.equal(at(issue), '3:1');
  });
  test('a tab after spaces: the column is the tab', () => {
    assert.equal(at(only('- name: iris\n  predictor:\n    \ttype: python\n')), '3:5');
  });
  test('an error on a line before the tab is kept, then the tab error', () => {
    const issues = issuesOf('- a: b\n  c: d\n e: f\n\tg: h\n');
    assert.deepEqual(issues.map((i) => [at(i), /YAML forbids tabs/.test(i.message)]), [['3:1', false], ['4:1', true]]);
  });
  test('tabs that are not indentation are fine (inside a flow mapping, before a comment, on a blank line)', () => {
    const text = '- name: iris\t# the model\n  predictor: {type: python,\tpath: predictor.py}\n\t\n';
    const r = resolveConfigText(text, join(dir, 'cortex.yaml'), dir);
    assert.ok(r.ok, JSON.stringify(r));
  });
  test('a tab inside a block scalar is content; an error further down is reported as itself', () => {
    const text = '- name: iris\n  predictor:\n    type: python\n    path: predictor.py\n    config:\n      text: |\n        \tindented text\n  bad: [\n';
    const issues = issuesOf(text);
    assert.ok(issues.every((i) => !/tab/.test(i.message)), JSON.stringify(issues));
  });
});

describe('validate prints each as file:line:col', () => {
  test('an API named healthz and a tab', async () => {
    const project = join(root, 'cli');
    mkdirSync(project);
    writeFileSync(join(project, 'predictor.py'), PREDICTOR_PY);
    writeFileSync(join(project, 'cortex.yaml'), `- name: healthz\n${PY}`);
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'cortex-local');
    const run = () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(bin, ['validate', project], { encoding: 'utf8' }, (err, _stdout, stderr) => resolve({ code: err ? (err as { code: number }).code : 0, stderr }));
    });
    let r = await run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cortex\.yaml:1:9 {2}api "healthz": endpoint: an API named "healthz" would be served at \/healthz/);
    writeFileSync(join(project, 'cortex.yaml'), `- name: iris\n  predictor:\n\ttype: python\n`);
    r = await run();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cortex\.yaml:3:1 {2}invalid yaml: a tab indents this line: YAML forbids tabs for indentation; indent with spaces\n1 error in /);
  });
});
