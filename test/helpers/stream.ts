// A continuous, bounded stream of requests for the redeploy tests: `clients`
// closed loops, each POSTing and awaiting the answer before the next, so at
// most `clients` requests are in flight. Every answer is kept with when its
// request was sent and answered.
import { Agent, request } from 'undici';

export interface Answer {
  i: number;
  /** performance.now() when the request was sent, and when its answer had arrived */
  sentAt: number;
  at: number;
  status: number;
  body: any;
}

export interface Stream {
  readonly answers: Answer[];
  /** resolves once `n` more answers have arrived */
  more(n: number): Promise<void>;
  stop(): Promise<Answer[]>;
}

export function startStream(url: string, opts: { clients: number; body?: (i: number) => Record<string, unknown>; headers?: Record<string, string> }): Stream {
  const agent = new Agent({ connections: opts.clients });
  const answers: Answer[] = [];
  const waiters: { until: number; resolve: () => void }[] = [];
  let stopped = false;
  let sent = 0;
  const client = async () => {
    while (!stopped) {
      const i = sent++;
      const sentAt = performance.now();
      let status: number;
      let body: unknown;
      try {
        const r = await request(url, { method: 'POST', body: JSON.stringify({ ...opts.body?.(i), i }), headers: opts.headers, dispatcher: agent });
        status = r.statusCode;
        const text = await r.body.text();
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      } catch (err) {
        status = 0;
        body = (err as Error).message;
      }
      answers.push({ i, sentAt, at: performance.now(), status, body });
      for (const w of [...waiters]) {
        if (answers.length >= w.until) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  };
  const loops = Array.from({ length: opts.clients }, client);
  return {
    answers,
    more: (n) => new Promise((resolve) => waiters.push({ until: answers.length + n, resolve })),
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await agent.close();
      return answers;
    },
  };
}

/** The value at quantile q (0…1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
