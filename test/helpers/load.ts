// Closed-loop load for integration tests: N clients each POST, await the
// answer, and POST again until stopped. Every answer is counted by status, and
// each 200 must carry the request's own `i` back (no answer crossed over).
import { Agent, request } from 'undici';

export interface LoadResult {
  codes: Map<number, number>;
  /** answers that were wrong: a 200 carrying another request's `i`, or what `check` objected to */
  wrong: string[];
}

export function startLoad(url: string, opts: {
  clients: number;
  body: (i: number) => Record<string, unknown>;
  /** extra checks on non-200 answers; returns a complaint or null */
  check?: (status: number, body: any) => string | null;
}): { stop(): Promise<LoadResult> } {
  const agent = new Agent({ connections: opts.clients * 2 });
  const result: LoadResult = { codes: new Map(), wrong: [] };
  let stopped = false;
  let sent = 0;
  const client = async () => {
    while (!stopped) {
      const i = sent++;
      const r = await request(url, { method: 'POST', body: JSON.stringify({ ...opts.body(i), i }), dispatcher: agent });
      const body = (await r.body.json()) as any;
      result.codes.set(r.statusCode, (result.codes.get(r.statusCode) ?? 0) + 1);
      if (r.statusCode === 200 && body.i !== i) result.wrong.push(`request ${i} got ${JSON.stringify(body)}`);
      const complaint = r.statusCode === 200 ? null : (opts.check?.(r.statusCode, body) ?? null);
      if (complaint !== null) result.wrong.push(complaint);
    }
  };
  const clients = Array.from({ length: opts.clients }, client);
  return {
    async stop() {
      stopped = true;
      await Promise.all(clients);
      await agent.close();
      return result;
    },
  };
}
