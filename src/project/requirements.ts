// A project's requirements.txt, installed as Cortex 0.15 installed it in each
// replica (`pip install -r requirements.txt` before the server started), here
// once per machine: a virtualenv per distinct (interpreter, requirements.txt)
// under PROJECT/.cortex-local/venvs/<hash>/, reused on the next start. It is
// made with --system-site-packages, and a .pth file adds the interpreter's
// own site-packages (a virtualenv's or conda env's, which --system-site-packages
// alone would skip), so frameworks installed for --python stay importable;
// what requirements.txt installs comes first on sys.path.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failure, run } from './step.ts';
import { installLock } from './install-lock.ts';

export const STATE_DIR = '.cortex-local';
/** written into a virtualenv once pip succeeded; a folder without it is rebuilt */
const INSTALLED = '.cortex-local-installed';

export interface RequirementsOptions {
  projectDir: string;
  /** the interpreter the workers would use without requirements.txt (--python) */
  python: string;
  /** false with serve --no-install: a virtualenv already installed is used, none is made */
  install: boolean;
  /** cortex-local's own lines */
  log: (line: string) => void;
  /** pip's output, line by line, as it comes */
  output: (line: string) => void;
}

export type ProjectPython = { ok: true; python: string } | { ok: false; error: string };

interface Interpreter {
  executable: string;
  prefix: string;
  version: string;
  sitePackages: string[];
}

/** The interpreter this project's workers run: a virtualenv with requirements.txt installed, or `python` itself. */
export async function projectPython(opts: RequirementsOptions): Promise<ProjectPython> {
  const file = join(opts.projectDir, 'requirements.txt');
  if (!existsSync(file)) return { ok: true, python: opts.python };
  const requirements = readFileSync(file);
  let interpreter: Interpreter;
  try {
    interpreter = describeInterpreter(opts.python);
  } catch (err) {
    return { ok: false, error: `requirements.txt could not be installed: ${(err as Error).message}` };
  }
  const hash = venvHash(interpreter, requirements);
  const venvs = join(opts.projectDir, STATE_DIR, 'venvs');
  const venv = join(venvs, hash);
  const venvPython = join(venv, 'bin', 'python');
  const shown = join(STATE_DIR, 'venvs', hash);
  if (existsSync(join(venv, INSTALLED))) {
    opts.log(`requirements.txt: using ${shown} (installed before for ${interpreter.executable})`);
    return { ok: true, python: venvPython };
  }
  if (!opts.install) {
    opts.log(`requirements.txt: not installed (--no-install); the workers run on ${opts.python} as it is`);
    return { ok: true, python: opts.python };
  }

  try {
    mkdirSync(venvs, { recursive: true });
    const ignore = join(opts.projectDir, STATE_DIR, '.gitignore');
    if (!existsSync(ignore)) writeFileSync(ignore, '# made by cortex-local: virtualenvs of requirements.txt, working folders of replicas\n*\n');
  } catch (err) {
    return { ok: false, error: `requirements.txt could not be installed: cannot create ${venvs}: ${(err as Error).message}` };
  }
  const release = await installLock(join(venvs, `${hash}.lock`), { log: opts.log });
  try {
    // Another server of this project may have installed it while we waited.
    if (existsSync(join(venv, INSTALLED))) return { ok: true, python: venvPython };
    rmSync(venv, { recursive: true, force: true });
    opts.log(`requirements.txt: installing into ${shown} with ${interpreter.executable} (once; later starts reuse it)`);
    const made = await run(opts.python, ['-m', 'venv', '--system-site-packages', venv], opts.projectDir, opts.output);
    if (made.code !== 0) return { ok: false, error: failure('requirements.txt could not be installed', `${opts.python} -m venv --system-site-packages ${venv}`, 'python -m venv', made) };
    try {
      writeBasePth(venvPython, interpreter.sitePackages);
    } catch (err) {
      return { ok: false, error: `requirements.txt could not be installed: ${(err as Error).message}` };
    }
    const pip = [venvPython, '-m', 'pip', 'install', '--disable-pip-version-check', '-r', file];
    const installed = await run(pip[0], pip.slice(1), opts.projectDir, opts.output);
    if (installed.code !== 0) return { ok: false, error: failure('requirements.txt could not be installed', `cd ${opts.projectDir} && ${pip.join(' ')}`, 'pip', installed) };
    writeFileSync(join(venv, INSTALLED), requirements);
    opts.log(`requirements.txt: installed into ${shown}`);
    return { ok: true, python: venvPython };
  } finally {
    release();
  }
}

/** The virtualenv's name: one per interpreter (its executable, prefix and version) and requirements.txt content. */
export function venvHash(interpreter: Pick<Interpreter, 'executable' | 'prefix' | 'version'>, requirements: Uint8Array): string {
  const h = createHash('sha256');
  h.update(`${interpreter.executable}\0${interpreter.prefix}\0${interpreter.version}\0`);
  h.update(requirements);
  return h.digest('hex').slice(0, 16);
}

function describeInterpreter(python: string): Interpreter {
  const code = 'import json, site, sys; print(json.dumps({"executable": sys.executable, "prefix": sys.prefix, "version": sys.version, "sitePackages": site.getsitepackages()}))';
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${python}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${python} could not describe itself (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  return JSON.parse(r.stdout) as Interpreter;
}

function writeBasePth(venvPython: string, sitePackages: string[]): void {
  const r = spawnSync(venvPython, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${venvPython} could not name its site-packages: ${r.stderr.trim()}`);
  writeFileSync(join(r.stdout.trim(), '_cortex_local_base.pth'), sitePackages.join('\n') + '\n');
}
