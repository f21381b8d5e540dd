// Finding and reading cortex.yaml (src/config/load.ts): PATH forms, the
// file-level failures (ConfigFileError, exit 2) and where a non-UTF-8 byte is.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig, locateConfig, MAX_CONFIG_BYTES, readConfigText } from '../../src/config/load.ts';
import { ConfigError, ConfigFileError } from '../../src/errors.ts';
import { makeProject, PREDICTOR_PY, removeProject } from './project.ts';

let dir = '';
before(() => {
  dir = makeProject({
    'p/cortex.yaml': '- name: iris\n  predictor: {type: python, path: predictor.py}\n',
    'p/predictor.py': PREDICTOR_PY,
    'bad/cortex.yaml': '- name: Iris\n  predictor: {type: python, path: predictor.py}\n',
    'bad/predictor.py': PREDICTOR_PY,
    'none/.keep': '',
  });
});
after(() => removeProject(dir));

function fileError(fn: () => unknown): ConfigFileError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigFileError, `expected ConfigFileError, got ${err}`);
    assert.doesNotMatch(err.message, /\n/);
    return err;
  }
  assert.fail('expected a ConfigFileError');
}

describe('locateConfig', () => {
  test('default ./cortex.yaml, a folder, a file', () => {
    assert.equal(locateConfig(undefined, join(dir, 'p')), join(dir, 'p', 'cortex.yaml'));
    assert.equal(locateConfig('p', dir), join(dir, 'p', 'cortex.yaml'));
    assert.equal(locateConfig('p/', dir), join(dir, 'p', 'cortex.yaml'));
    assert.equal(locateConfig('p/cortex.yaml', dir), join(dir, 'p', 'cortex.yaml'));
    assert.equal(locateConfig(join(dir, 'p'), '/'), join(dir, 'p', 'cortex.yaml'));
  });
  test('missing file, missing folder, folder without cortex.yaml', () => {
    assert.equal(fileError(() => locateConfig(undefined, dir)).message, 'cortex.yaml: no such file or folder');
    assert.equal(fileError(() => locateConfig('nope/x.yaml', dir)).message, 'nope/x.yaml: no such file or folder');
    assert.equal(fileError(() => locateConfig('none', dir)).message, 'none: the folder holds no cortex.yaml');
  });
});

describe('readConfigText', () => {
  const bytesAt = (name: string, ...parts: (string | number[])[]) => {
    const file = join(dir, name);
    writeFileSync(file, Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));
    return file;
  };
  test('UTF-8 text, with the BOM dropped', () => {
    assert.equal(readConfigText(bytesAt('ok.yaml', [0xef, 0xbb, 0xbf], '- name: café\n'), 'ok.yaml'), '- name: café\n');
  });
  const invalid: [string, (string | number[])[], string][] = [
    ['a Latin-1 byte', ['a: caf', [0xe9], '\n'], '1:7'],
    ['on a later line, after multi-byte characters (columns count UTF-16 units, as the YAML positions do)', ['a: 1\nb: é€😀', [0xff], '\n'], '2:8'],
    ['a lone continuation byte', ['x', [0x80]], '1:2'],
    ['an overlong encoding', ['ab', [0xc0, 0xaf]], '1:3'],
    ['a UTF-16 surrogate', ['', [0xed, 0xa0, 0x80]], '1:1'],
    ['past U+10FFFF', ['', [0xf4, 0x90, 0x80, 0x80]], '1:1'],
    ['a sequence cut off by the end of the file', ['abc', [0xe2, 0x82]], '1:4'],
    ['a sequence cut off by a newline', ['a\nb', [0xe2], '\n'], '2:2'],
  ];
  for (const [what, parts, position] of invalid) {
    test(`not UTF-8: ${what} → ${position}`, () => {
      const err = fileError(() => readConfigText(bytesAt('bad.yaml', ...parts), 'bad.yaml'));
      assert.equal(err.message, `bad.yaml:${position}: not valid UTF-8 text (save the file as UTF-8)`);
    });
  }
  test(`the size cap is ${MAX_CONFIG_BYTES} bytes: at it is read, one byte more is refused`, () => {
    const at = bytesAt('at.yaml', '#'.repeat(MAX_CONFIG_BYTES - 1) + '\n');
    assert.equal(readConfigText(at, 'at.yaml').length, MAX_CONFIG_BYTES);
    const over = bytesAt('over.yaml', '#'.repeat(MAX_CONFIG_BYTES) + '\n');
    assert.equal(fileError(() => readConfigText(over, 'over.yaml')).message, 'over.yaml: file is 4.0 MiB; a cortex.yaml may be at most 4 MiB');
    const ten = bytesAt('ten.yaml', '#'.repeat(10 * 1024 * 1024));
    assert.match(fileError(() => readConfigText(ten, 'ten.yaml')).message, /^ten.yaml: file is 10.0 MiB/);
  });
});

describe('loadConfig', () => {
  test('a valid file: the project folder is the folder holding it', async () => {
    const config = await loadConfig('p', dir);
    assert.equal(config.file, join(dir, 'p', 'cortex.yaml'));
    assert.equal(config.projectDir, join(dir, 'p'));
    assert.equal(config.apis[0].predictor.python_path, join(dir, 'p'));
  });
  test('an invalid file: ConfigError with every issue', async () => {
    await assert.rejects(loadConfig('bad', dir), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => [i.api, i.path, i.line, i.column]),
        [['Iris', 'name', 1, 9]],
      );
      return true;
    });
  });
  test('a non-UTF-8 file reached through a folder names the file', async () => {
    mkdirSync(join(dir, 'latin1'));
    writeFileSync(join(dir, 'latin1', 'cortex.yaml'), Buffer.from([0x2d, 0x20, 0xe9, 0x0a]));
    await assert.rejects(loadConfig('latin1', dir), (err: unknown) => {
      assert.ok(err instanceof ConfigFileError);
      assert.equal(err.message, `${join('latin1', 'cortex.yaml')}:1:3: not valid UTF-8 text (save the file as UTF-8)`);
      return true;
    });
  });
});
