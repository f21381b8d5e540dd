// A front-door thread: a FrontDoor of its own on the shared port (reusePort:
// the kernel spreads connections over the threads), its backend the main
// thread (remote-backend.ts).
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { collectAllGarbage, IdleTrim } from '../../idle-trim.ts';
import { ByteBudget } from '../byte-budget.ts';
import { FrontDoor } from '../server.ts';
import type { Batch, Command, Control, DoorThreadData } from './protocol.ts';
import { RemoteBackend } from './remote-backend.ts';

const port = parentPort;
if (port === null) throw new Error('door-thread.ts runs as a worker thread of serve --http-threads');
const data = workerData as DoorThreadData;
const backend = new RemoteBackend(port, data);
const door = new FrontDoor({
  backend,
  maxBody: data.maxBody,
  apiKey: data.apiKey,
  bodyTimeoutMs: data.bodyTimeoutMs,
  queuedBytes: new ByteBudget(data.maxQueuedBytes, data.queuedBytes, data.queuedBytesShare),
});
backend.onRoutes = () => void door.routesChanged();
const control = (m: Control) => port.postMessage(m);

// This thread's heap grows with its load as the main thread's does (idle-trim.ts).
const trim = new IdleTrim();
setInterval(() => {
  if (trim.tick(performance.now(), door.seen)) collectAllGarbage();
}, 1000).unref();

// Commands share the port with the batches of answers (read by the backend),
// so a 'close' comes after every answer sent before it.
port.on('message', (m: Command | Batch<unknown>) => {
  if ('hot' in m) return;
  if (m.t === 'shutdown') door.beginShutdown();
  else {
    door.kill();
    port.close();
  }
});

door.listen(data.host, data.port, true).then(
  (bound) => control({ t: 'listening', port: bound }),
  (err: NodeJS.ErrnoException) => control({ t: 'listen-error', code: err.code, message: err.message }),
);
