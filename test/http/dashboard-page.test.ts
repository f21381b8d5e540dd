// The dashboard page without a browser: its inline script compiles, and it
// loads nothing from anywhere (the browser test, dashboard.test.ts, may be
// skipped where chromium is missing; this one never is).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Script } from 'node:vm';
import { DASHBOARD_HTML } from '../../src/http/dashboard.ts';

const page = DASHBOARD_HTML.toString('utf8');

test('one inline script, and it compiles', () => {
  const scripts = [...page.matchAll(/<script>([^]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.doesNotThrow(() => new Script(scripts[0][1], { filename: 'dashboard.js' }));
});

test('no external asset: no src, no href, no url(), no import', () => {
  assert.doesNotMatch(page, /\s(src|href)\s*=/i);
  assert.doesNotMatch(page, /url\(|@import|import\s*\(/i);
  assert.match(page, /fetch\("\/apis\?series=1"/);
});
