// A GPU API rolls within the GPUs it holds: with two GPUs (--gpus 0,1) both
// held by its two replicas, none is spare for a surge, so one old replica at
// a time makes room for a new one, which must be ready before the next old
// one goes. Real workers; every answer under a stream of requests is a 200.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { makeProject, removeProject } from '../config/project.ts';
import { eventually, startServer, type ServerProcess } from '../helpers/server.ts';
import { startStream } from '../helpers/stream.ts';

const predictor = (version: string) => `import os


class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        return {"i": payload["i"], "version": ${JSON.stringify(version)}, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}
`;

const CONFIG = `- name: gen
  predictor:
    type: python
    path: predictor.py
  compute:
    gpu: 1
  autoscaling:
    min_replicas: 2
    max_replicas: 2
`;

let dir = '';
let server: ServerProcess;
const agent = new Agent({ connections: 2 });

before(async () => {
  dir = makeProject({ 'cortex.yaml': CONFIG, 'predictor.py': predictor('v1') });
  server = await startServer(dir, ['--watch', '--gpus', '0,1'], { waitForApis: ['gen'] });
  await server.waitFor(/^watching /);
});

after(async () => {
  await agent.close();
  assert.equal(await server.stop(), 0, server.output());
  removeProject(dir);
});

async function status(): Promise<any> {
  return (await request(`${server.url}/gen`, { dispatcher: agent })).body.json();
}

test('with no GPU to spare, the rollout swaps one replica at a time: never more than two replicas on GPUs, each GPU held once, one always serving', async () => {
  const before = await eventually(async () => {
    const s = await status();
    return s.rollout.state === 'live' && s.replicas.ready === 2 ? s : undefined;
  }, 'two replicas ready', 60_000, () => server.output());
  const stream = startStream(`${server.url}/gen`, { clients: 2 });
  await stream.more(20);
  writeFileSync(join(dir, 'predictor.py'), predictor('v2'));
  const samples: any[] = [];
  await eventually(async () => {
    const s = await status();
    samples.push(s);
    return s.version !== before.version && s.rollout.state === 'live' && s.rollout.new.ready === 2 ? s : undefined;
  }, 'the rollout to end', 60_000, () => server.output());
  const answers = await stream.stop();
  const bad = answers.filter((a) => a.status !== 200 || a.body.i !== a.i);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${answers.length} answers failed`);
  assert.deepEqual([...new Set(answers.map((a) => a.body.cuda))].sort(), ['0', '1']);
  assert.ok(samples.filter((s) => s.rollout.state === 'updating').length >= 3, 'the rollout was sampled');
  for (const s of samples) {
    const held = s.detail.filter((r: any) => r.state !== 'pending').flatMap((r: any) => r.gpus);
    assert.ok(held.length <= 2, `${held.length} GPUs held: ${JSON.stringify(s.detail)}`);
    assert.equal(new Set(held).size, held.length, `a GPU held twice: ${JSON.stringify(s.detail)}`);
    assert.ok(s.replicas.ready >= 1, `no replica ready: ${JSON.stringify(s.rollout)}`);
  }
  const pendings = samples.flatMap((s) => s.detail.filter((r: any) => r.state === 'pending').map((r: any) => r.reason));
  assert.ok(pendings.some((r: string) => /^needs 1 GPU, 0 free of 2/.test(r)), 'a new replica waited for a GPU');
});
