// What a project needs before its workers start: dependencies.sh (only when
// the user allows it) and then requirements.txt (requirements.ts), in the
// order later Cortex versions ran them in each replica.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { projectPython, type ProjectPython } from './requirements.ts';
import { failure, run } from './step.ts';

export interface PrepareOptions {
  projectDir: string;
  python: string;
  /** false with serve --no-install: nothing is installed or run */
  install: boolean;
  /** serve --allow-dependencies-sh */
  allowDependenciesSh: boolean;
  log: (line: string) => void;
  /** a setup step's output line, with the step's name */
  output: (step: string, line: string) => void;
}

/** The interpreter for the project's workers, or why none can run them. */
export async function prepareProject(opts: PrepareOptions): Promise<ProjectPython> {
  const script = join(opts.projectDir, 'dependencies.sh');
  if (existsSync(script)) {
    if (!opts.install) {
      opts.log('dependencies.sh: not run (--no-install)');
    } else if (!opts.allowDependenciesSh) {
      // In Cortex it ran as root inside the replica's container; here it would run on this machine, as this user.
      opts.log(`dependencies.sh: not run: it would run on this machine as ${currentUser()}, not in a container as in Cortex; pass --allow-dependencies-sh to run it`);
    } else {
      opts.log('dependencies.sh: running it with bash');
      const r = await run('bash', [script], opts.projectDir, (line) => opts.output('dependencies.sh', line));
      if (r.code !== 0) return { ok: false, error: failure('dependencies.sh failed', `cd ${opts.projectDir} && bash dependencies.sh`, 'bash', r) };
    }
  }
  return projectPython({ ...opts, output: (line) => opts.output('requirements.txt', line) });
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    // a uid without a passwd entry (some containers)
    return `uid ${process.getuid?.()}`;
  }
}
