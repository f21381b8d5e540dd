// Client text in the log (issue 12): one line, no terminal escapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forLog } from '../../src/http/log-text.ts';

test('newlines, carriage returns, tabs and other control characters become escapes', () => {
  assert.equal(forLog('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(forLog('\u0000\u0007\u001b[2J\u007f'), '\\u0000\\u0007\\u001b[2J\\u007f');
  assert.equal(forLog('\u009b31m \u0085'), '\\u009b31m \\u0085', 'C1 controls: some terminals obey them');
  assert.equal(forLog('x\u2028y\u2029z'), 'x\\u2028y\\u2029z');
});

test('printable text, quotes, backslashes and non-ASCII are kept as they are', () => {
  const text = '{"name": "Zoë", "path": "C:\\\\dir", "emoji": "🙂", "n": 1}';
  assert.equal(forLog(text), text);
});

test('long text is cut, saying how much was left out, after escaping what is kept', () => {
  assert.equal(forLog('ab\ncdef', 4), 'ab\\nc… (3 more characters)');
  assert.equal(forLog('abcd', 4), 'abcd');
});
