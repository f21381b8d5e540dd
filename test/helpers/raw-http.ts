// A raw HTTP/1.1 client for what ordinary clients will not send: pipelined
// and malformed requests, trickled bodies, Expect: 100-continue, CONNECT.
// It reads the answers as they come, one parsed message at a time.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** header names in lower case */
  headers: Record<string, string>;
  body: string;
}

export interface RawConnection {
  socket: Socket;
  write(data: string | Buffer): void;
  /** the next complete answer (an interim 1xx included), or rejects when the connection closes first or after `timeoutMs` */
  next(timeoutMs?: number): Promise<RawAnswer>;
  /** resolves once the server has ended the connection (its FIN), or it closed */
  closed: Promise<void>;
  /** every byte received so far, as latin1 */
  received(): string;
}

export async function rawConnect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
  socket.on('error', () => {});
  await once(socket, 'connect');
  let all = '';
  let pending = '';
  let ended = false;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (chunk: Buffer) => {
    all += chunk.toString('latin1');
    pending += chunk.toString('latin1');
    wake();
  });
  // The server's FIN ends the exchange: this side closes too, as an ordinary client does.
  const closed = new Promise<void>((resolve) => {
    const done = () => {
      ended = true;
      wake();
      socket.end();
      resolve();
    };
    socket.once('end', done);
    socket.once('close', done);
  });
  const take = (): RawAnswer | null => {
    const end = pending.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const [statusLine, ...lines] = pending.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    const length = status < 200 || status === 204 ? 0 : Number(headers['content-length'] ?? 0);
    if (pending.length < end + 4 + length) return null;
    const body = Buffer.from(pending.slice(end + 4, end + 4 + length), 'latin1').toString('utf8');
    pending = pending.slice(end + 4 + length);
    return { status, headers, body };
  };
  const next = (timeoutMs = 20_000) =>
    new Promise<RawAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no complete answer within ${timeoutMs} ms; received: ${JSON.stringify(all)}`)), timeoutMs);
      const check = () => {
        const answer = take();
        if (answer !== null) {
          clearTimeout(timer);
          resolve(answer);
        } else if (ended) {
          clearTimeout(timer);
          reject(new Error(`connection closed before a complete answer; received: ${JSON.stringify(all)}`));
        } else waiters.push(check);
      };
      check();
    });
  return { socket, write: (data) => socket.write(data), next, closed, received: () => all };
}
