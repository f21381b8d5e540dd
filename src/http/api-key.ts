// `serve --api-key KEY`: the Authorization header a request must carry. The
// scheme is case-insensitive (RFC 7235), and the keys are compared through
// their digests in constant time, so the answer's timing tells nothing of how
// much of a guessed key was right. A browser cannot send a Bearer header when
// it opens the dashboard, so HTTP Basic with the key as the password (any
// user name) is taken too: the browser asks for it once and sends it with
// the page's own requests.
import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+=*)[ \t]*$/i;

export class ApiKey {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = digest(key);
  }

  /** whether an Authorization header value carries the key */
  accepts(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;
    const bearer = BEARER.exec(authorization);
    if (bearer !== null) return timingSafeEqual(digest(bearer[1]), this.#digest);
    const basic = BASIC.exec(authorization);
    if (basic === null) return false;
    const credentials = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = credentials.indexOf(':');
    return colon !== -1 && timingSafeEqual(digest(credentials.slice(colon + 1)), this.#digest);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
