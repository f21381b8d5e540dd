// Client-supplied text on its way into the log (`?debug=true` payloads and
// predictions, request ids): one line, no terminal escapes. Control characters
// (C0, DEL, C1, and the Unicode line and paragraph separators) are written as
// escapes, so a client cannot forge log lines or drive the terminal.

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` as one printable line, cut past `max` characters. */
export function forLog(text: string, max = 10_000): string {
  const cut = text.length <= max ? text : text.slice(0, max);
  const line = cut.replace(UNPRINTABLE, escape);
  return cut === text ? line : `${line}… (${text.length - max} more characters)`;
}
