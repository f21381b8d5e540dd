// The dashboard in a real headless browser (Debian's chromium through
// playwright-core): after known traffic the page shows each API, its replica
// count and a throughput line that is not flat. Skipped, saying why, where
// chromium is not installed (.ci/run installs it). The screenshot goes to
// test-output/dashboard.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startServer, type ServerProcess } from '../helpers/server.ts';

const project = join(import.meta.dirname, '..', 'fixtures', 'observe', 'cli.yaml');
const output = join(import.meta.dirname, '..', '..', 'test-output');
const KEY = 'dashboard-key-0123456789';

function findChromium(): string | null {
  const given = process.env.CORTEX_LOCAL_TEST_CHROMIUM;
  if (given) return given;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not on PATH under this name
    }
  }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

const chromium = findChromium();
const skip = chromium === null ? 'chromium is not installed (apt-get install chromium; CI installs it): the dashboard is not tested in a browser' : false;
let server: ServerProcess;

before(async () => {
  if (skip) return;
  server = await startServer(project, ['--api-key', KEY], { waitForApis: ['iris', 'plain', 'scaled'], env: { CORTEX_LOCAL_AUTOSCALER_TIME_SCALE: '20' } });
  const post = async (api: string, body: unknown) => {
    const res = await request(`${server.url}/${api}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${KEY}` } });
    await res.body.dump();
    return res.statusCode;
  };
  for (let i = 0; i < 40; i++) assert.equal(await post('iris', { answer: { label: ['setosa', 'versicolor', 'virginica'][i % 3] } }), 200);
  assert.equal(await post('plain', { raise: 'the dashboard shows this' }), 500);
});

after(async () => {
  if (!skip) assert.equal(await server.stop(), 0);
});

test('after known traffic the page shows each API, its replicas and a throughput line', { skip }, async () => {
  const { chromium: browserType } = await import('playwright-core');
  // Root (CI, containers) cannot use chromium's sandbox.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const browser = await browserType.launch({ executablePath: chromium as string, args });
  try {
    // Without the key a browser gets a Basic challenge, so it asks for the key (as the password).
    const refused = await request(`${server.url}/`, { headers: { accept: 'text/html' } });
    await refused.body.dump();
    assert.equal(refused.statusCode, 401, 'the page is under the API key too');
    assert.match(String(refused.headers['www-authenticate']), /^Basic realm=/);

    const context = await browser.newContext({ httpCredentials: { username: 'me', password: KEY }, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const res = await page.goto(`${server.url}/`);
    assert.equal(res?.status(), 200);
    const iris = page.locator('[data-api="iris"]');
    await iris.waitFor({ timeout: 20_000 });
    assert.deepEqual(await page.locator('section.api h2').allTextContents(), ['iris', 'plain', 'scaled']);
    assert.equal(await iris.locator('[data-testid="ready"]').textContent(), '1');
    assert.match(await iris.textContent() ?? '', /ready of 1 desired/);
    assert.match(await iris.locator('.badge').textContent() ?? '', /^live$/);

    // The throughput line: 120 points, some of them above the baseline.
    const points = await iris.locator('svg[data-testid="throughput"] polyline[data-series="rate"]').getAttribute('points');
    const ys = (points ?? '').split(' ').filter(Boolean).map((p) => Number(p.split(',')[1]));
    assert.equal(ys.length, 120);
    assert.ok(Math.min(...ys) < Math.max(...ys), `a line that rises somewhere: ${points}`);
    assert.notEqual(await iris.locator('[data-testid="rate"]').textContent(), '0');

    const classes = await iris.locator('[data-testid="classes"] td:first-child').allTextContents();
    assert.deepEqual([...classes].sort(), ['setosa', 'versicolor', 'virginica']);
    assert.match(await page.locator('[data-api="plain"]').textContent() ?? '', /ValueError: the dashboard shows this/);
    // scaled started with 2 replicas: its autoscaler has ticked and says why.
    assert.match(await page.locator('[data-api="scaled"]').textContent() ?? '', /avg in flight 0, recommends 1/);
    assert.deepEqual(errors, []);

    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: join(output, 'dashboard.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
