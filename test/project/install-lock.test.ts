// The lock that lets one server of a project install requirements.txt at a
// time (src/project/install-lock.ts), with real processes racing for it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { installLock } from '../../src/project/install-lock.ts';

const scratch = mkdtempSync(join(tmpdir(), 'install-lock-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const module = join(import.meta.dirname, '..', '..', 'src', 'project', 'install-lock.ts');

// Each racer says it is ready, waits for the word to go (given to all at
// once), then takes the lock 100 times, noting its entry and exit each time.
const RACER = `
import { appendFileSync, readFileSync } from 'node:fs';
import { installLock } from ${JSON.stringify(module)};
const [file, journal] = process.argv.slice(1);
process.stdout.write('ready\\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.destroy();
for (let i = 0; i < 100; i++) {
  const release = await installLock(file, { log: () => {}, pollMs: 0 });
  appendFileSync(journal, 'in ' + process.pid + '\\n');
  readFileSync(file);
  appendFileSync(journal, 'out ' + process.pid + '\\n');
  release();
}
`;

async function race(racers: number, file: string, journal: string): Promise<(number | null)[]> {
  const children = Array.from({ length: racers }, () => spawn(process.execPath, ['--input-type=module', '-e', RACER, file, journal], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const exits = children.map((child) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))));
  // A racer that dies before it is ready fails the test rather than leaving it waiting.
  await Promise.all(children.map((child, i) => Promise.race([once(child.stdout, 'data'), exits[i].then((code) => Promise.reject(new Error(`a racer exited ${code} before it was ready`)))])));
  for (const child of children) child.stdin.end('go');
  return Promise.all(exits);
}

test('servers starting at once hold the lock one at a time, every one of them in turn', async () => {
  const file = join(scratch, 'race.lock');
  const journal = join(scratch, 'race.journal');
  writeFileSync(journal, '');
  const codes = await race(4, file, journal);
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const lines = readFileSync(journal, 'utf8').trim().split('\n');
  assert.equal(lines.length, 800);
  for (let i = 0; i < lines.length; i += 2) {
    const [entry, exit] = [lines[i].split(' '), lines[i + 1].split(' ')];
    assert.deepEqual([entry[0], exit[0], exit[1]], ['in', 'out', entry[1]], `one holder at a time (line ${i + 1})\n${lines.slice(Math.max(0, i - 4), i + 4).join('\n')}`);
  }
  assert.deepEqual(readdirSync(scratch).filter((f) => f.startsWith('race.lock')), [], 'the lock and its scratch files are gone');
});

test('a lock held by a live process is waited for, said once, and taken when released', async () => {
  const file = join(scratch, 'held.lock');
  const first = await installLock(file, { log: () => assert.fail('the first takes it at once') });
  assert.equal(readFileSync(file, 'utf8'), String(process.pid));
  const said: string[] = [];
  const { promise: waiting, resolve: toldWaiting } = Promise.withResolvers<void>();
  let taken = false;
  const second = installLock(file, { log: (line) => (said.push(line), toldWaiting()), pollMs: 5 }).then((release) => {
    taken = true;
    return release;
  });
  await waiting;
  assert.deepEqual(said, [`requirements.txt: waiting for process ${process.pid}, which is installing it for this project`]);
  // A few of its polls go by with the lock still held.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(taken, false);
  first();
  (await second)();
  assert.equal(said.length, 1, 'said once');
  assert.deepEqual(readdirSync(scratch).filter((f) => f.startsWith('held.lock')), []);
});

test('a lock left by a process that is gone, or naming no process, is taken over', async () => {
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  for (const [name, content] of [['dead', gone.stdout], ['garbage', 'not a pid'], ['empty', '']]) {
    const file = join(scratch, `${name}.lock`);
    writeFileSync(file, content);
    const release = await installLock(file, { log: (line) => assert.fail(`${name}: nothing to wait for, said: ${line}`) });
    assert.equal(readFileSync(file, 'utf8'), String(process.pid), name);
    release();
  }
});
