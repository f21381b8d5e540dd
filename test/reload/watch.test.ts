// serve --watch's watcher on real files: edits of code, config and models
// outside the project are heard (once per burst); hidden folders,
// __pycache__ and editors' files are not; a folder made later is watched.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { realTimers } from '../../src/pool/timers.ts';
import { ProjectWatcher, watchTargets } from '../../src/reload/watch.ts';
import { makeProject, PREDICTOR_PY, removeProject } from '../config/project.ts';

let root = '';
let dir = '';
let model = '';
let watcher: ProjectWatcher;
/** the bursts heard, each the paths it named */
const heard: string[][] = [];
let waiters: (() => void)[] = [];

before(async () => {
  root = makeProject({ 'p/cortex.yaml': '- name: a\n', 'p/predictor.py': PREDICTOR_PY, 'p/src/util.py': '', 'p/.git/HEAD': '', 'models/m.onnx': 'onnx', 'models/other': '' });
  dir = join(root, 'p');
  model = join(root, 'models/m.onnx');
  watcher = new ProjectWatcher({
    targets: watchTargets(dir, [model, null, 's3://b/k']),
    timers: realTimers,
    quietMs: 100,
    maxWaitMs: 1000,
    log: (line) => assert.fail(line),
    onChange: (paths) => {
      heard.push(paths);
      for (const w of waiters) w();
      waiters = [];
    },
  });
  await watcher.ready();
});
after(() => {
  watcher.close();
  removeProject(root);
});

/** Every path heard in bursts that end within the next `ms`. */
async function heardWithin(ms: number): Promise<string[]> {
  const seen = heard.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  return heard.slice(seen).flat();
}

/** The next burst, or null when none comes within `ms` (the quiet period is 100 ms). */
function nextBurst(ms = 3000): Promise<string[] | null> {
  const seen = heard.length;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(heard.length > seen ? heard[seen] : null), ms);
    waiters.push(() => {
      clearTimeout(timer);
      resolve(heard[seen]);
    });
  });
}

test('an edit of the predictor is heard once, naming the file', async () => {
  const burst = nextBurst();
  writeFileSync(join(dir, 'predictor.py'), `${PREDICTOR_PY}# 1\n`);
  writeFileSync(join(dir, 'predictor.py'), `${PREDICTOR_PY}# 2\n`);
  assert.deepEqual(await burst, [join(dir, 'predictor.py')]);
});

test('an editor\'s atomic save (a temporary file renamed over the target) is heard as the target', async () => {
  const burst = nextBurst();
  writeFileSync(join(dir, 'src/util.py___jb_tmp___'), 'X = 3\n');
  renameSync(join(dir, 'src/util.py___jb_tmp___'), join(dir, 'src/util.py'));
  assert.deepEqual(await burst, [join(dir, 'src/util.py')]);
});

test('.git, __pycache__, .cortex-local, swap and backup files are not heard', async () => {
  const bursts = heardWithin(800);
  writeFileSync(join(dir, '.git/HEAD'), 'ref');
  mkdirSync(join(dir, '__pycache__'), { recursive: true });
  writeFileSync(join(dir, '__pycache__/predictor.cpython-312.pyc'), 'x');
  mkdirSync(join(dir, '.cortex-local/replicas/a-1.9'), { recursive: true });
  writeFileSync(join(dir, '.cortex-local/replicas/a-1.9/model.pkl'), 'x');
  writeFileSync(join(dir, '.predictor.py.swp'), 'x');
  writeFileSync(join(dir, 'predictor.py~'), 'x');
  writeFileSync(join(dir, '4913'), 'x');
  rmSync(join(dir, '4913'));
  // A late burst of an earlier test's edit may still come; none names these files.
  const earlier = [join(dir, 'predictor.py'), join(dir, 'src/util.py')];
  assert.deepEqual((await bursts).filter((p) => !earlier.includes(p)), []);
});

test('a folder made after the start is watched, and a file in it heard', async () => {
  const made = nextBurst();
  mkdirSync(join(dir, 'src/deep'));
  assert.deepEqual(await made, [join(dir, 'src/deep')]);
  // The folder is watched once its walk is done; a write into it is then heard.
  const inside = await (async () => {
    for (let i = 0; i < 50; i++) {
      const burst = nextBurst(300);
      writeFileSync(join(dir, 'src/deep/helper.py'), `X = ${i}\n`);
      const got = await burst;
      if (got !== null) return got;
    }
    return null;
  })();
  assert.deepEqual(inside, [join(dir, 'src/deep/helper.py')]);
});

test('a local model outside the project is heard; its neighbours are not', async () => {
  const quiet = heardWithin(800);
  writeFileSync(join(root, 'models/other'), 'x');
  assert.deepEqual((await quiet).filter((p) => !p.startsWith(join(dir, 'src/deep'))), [], 'a late burst of the last test aside');
  const burst = nextBurst();
  writeFileSync(model, 'onnx 2');
  assert.deepEqual(await burst, [model]);
});
