// `serve --api-key KEY`: the Authorization header a request must carry. The
// scheme is case-insensitive (RFC 7235), and the keys are compared through
// their digests in constant time, so the answer's timing tells nothing of how
// much of a guessed key was right.
import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

export class ApiKey {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = digest(key);
  }

  /** whether an Authorization header value carries the key */
  accepts(authorization: string | undefined): boolean {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    return m !== null && timingSafeEqual(digest(m[1]), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
