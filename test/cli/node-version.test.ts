import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, NODE_FLOOR, nodeTooOld } from '../../src/node-version.ts';

test('versions compare number by number, a leading v ignored', () => {
  assert.ok(compareVersions('22.9.0', '22.19.0') < 0);
  assert.ok(compareVersions('v22.19.0', '22.19.0') === 0);
  assert.ok(compareVersions('22.19.1', '22.19') > 0);
  assert.ok(compareVersions('24.0.0', '22.19.0') > 0);
  assert.ok(compareVersions('20.20.2', '22.19.0') < 0);
});

test('22.19 and newer pass; older gets one line naming the version found, the one needed, and how to get it', () => {
  assert.equal(NODE_FLOOR, '22.19.0');
  for (const ok of ['22.19.0', '22.23.5', '23.1.0', '24.21.0', '25.0.0']) assert.equal(nodeTooOld(ok, '/usr/bin/node'), null, ok);
  for (const old of ['22.18.9', '22.9.0', '20.20.2', '18.19.1']) {
    const line = nodeTooOld(old, '/opt/node/bin/node');
    assert.equal(
      line,
      `cortex-local needs Node.js 22.19.0 or newer (22 LTS or 24 LTS); this is Node.js ${old} (/opt/node/bin/node). Install Node.js 24 LTS (https://nodejs.org, or \`nvm install 24\`), or use the single binary cortex-local-linux-x64, which carries its own Node.js`,
    );
    assert.ok(!line?.includes('\n'));
  }
});
