// Parses argv and runs one command. Exit codes: 0 ok, 1 invalid input
// (config, trace), 2 usage or unreadable file (or a Node.js too old).
import './require-node.ts';
import { closest } from './config/suggest.ts';
import { ConfigFileError, CortexLocalError, UsageError } from './errors.ts';
import { ownVersion } from './own-files.ts';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./commands/validate.ts')).validate,
  serve: async () => (await import('./commands/serve.ts')).serve,
  simulate: async () => (await import('./commands/simulate.ts')).simulate,
  get: async () => (await import('./commands/get.ts')).get,
  logs: async () => (await import('./commands/logs.ts')).logs,
  predict: async () => (await import('./commands/predict.ts')).predict,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  deploy: async () => (await import('./commands/deploy.ts')).deploy,
  refresh: async () => (await import('./commands/refresh.ts')).refresh,
  delete: async () => (await import('./commands/delete.ts')).deleteCommand,
};

const usage = `usage: cortex-local <command> [options]

commands:
  serve [PATH]            serve every API of PATH/cortex.yaml on 127.0.0.1:8888
  validate [PATH]         check cortex.yaml; --json prints the resolved config or every error
  simulate TRACE.json     replay an in-flight trace through the autoscaler
  get [API]               show the APIs and replicas of a running server (--watch, --autoscaler)
  logs API                print an API's recent log lines (--follow)
  predict API FILE.json   send a JSON file to an API and print the prediction
  export --to ENGINE      write the project for KServe (kserve) or Ray Serve (rayserve)
  deploy [PATH]           make a running server deploy cortex.yaml again (rolling updates)
  refresh API             restart an API's replicas by a rolling update
  delete API...           drain and remove APIs from a running server

options: --help, --version (on every command too)
run 'cortex-local <command> --help' for a command's options

example: cortex-local serve examples/hello`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${ownVersion()}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    const hint = closest(name.replace(/^-+/, ''), Object.keys(commands));
    throw new UsageError(`unknown command "${name}"${hint === null ? '' : ` (did you mean "${hint}"?)`}\n\n${usage}`);
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigFileError || isParseArgsError(err)) {
      process.stderr.write(`cortex-local: ${(err as Error).message}\n`);
      process.exitCode = 2;
    } else if (err instanceof CortexLocalError) {
      process.stderr.write(`cortex-local: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`cortex-local: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);

/** node:util parseArgs rejects unknown or malformed options with these codes: a usage mistake, not a crash. */
function isParseArgsError(err: unknown): boolean {
  return err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_');
}
