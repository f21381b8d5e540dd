// The spawn function of the server: a Python worker process
// (python-bridge/worker-process.ts) reporting in the pool's terms.
import { joined, type Bytes } from '../bytes.ts';
import { Kind } from '../python-bridge/frames.ts';
import { PythonWorker, type WorkerSpec } from '../python-bridge/worker-process.ts';
import type { Reply } from './reply.ts';
import type { SpawnWorker } from './worker-slot.ts';

export function pythonWorker(spec: WorkerSpec): SpawnWorker {
  return (events) => {
    const worker = new PythonWorker(spec, {
      ready: (info) => events.ready(info.model_signature ?? null),
      initError: (traceback) => events.initError(traceback),
      started: (id, at) => events.started(id, at),
      reply: (id, kind, payload, at) => {
        const reply = toReply(kind, payload);
        if (reply === null) events.malformed(`a PREDICT_ERROR frame whose payload is not JSON (request id ${id})`);
        else events.replied(id, reply, at);
      },
      output: (stream, lines) => events.output(stream, lines),
      malformed: (reason) => events.malformed(reason),
      exit: (exit) => events.exited(exit),
    });
    worker.start();
    return worker;
  };
}

function toReply(kind: number, payload: Bytes): Reply | null {
  switch (kind) {
    case Kind.RESULT_JSON:
      return { kind: 'prediction', contentType: 'application/json', body: payload };
    case Kind.RESULT_BYTES:
      return { kind: 'prediction', contentType: 'application/octet-stream', body: payload };
    case Kind.BAD_REQUEST:
      return { kind: 'bad-request', message: joined(payload).toString('utf8') };
    default: {
      let parsed: { error?: unknown; traceback?: unknown };
      try {
        parsed = JSON.parse(joined(payload).toString('utf8')) as { error?: unknown; traceback?: unknown };
      } catch {
        return null;
      }
      return { kind: 'predict-error', error: String(parsed.error), traceback: String(parsed.traceback) };
    }
  }
}
