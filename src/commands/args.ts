// Option parsing shared by every command: --help and --version on each, and
// an unknown option answered with the closest one ("did you mean --port?").
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { closest } from '../config/suggest.ts';
import { UsageError } from '../errors.ts';
import { ownVersion } from '../own-files.ts';

const common = {
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof common; allowPositionals: true }>>;

/**
 * The command's options and positionals; null when --help or --version was
 * asked for and has been printed (the command then exits 0).
 */
export function parseCommand<O extends ParseArgsOptionsConfig>(command: string, argv: string[], options: O, help: string): Parsed<O> | null {
  const all = { ...options, ...common };
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options: all, allowPositionals: true }) as Parsed<O>;
  } catch (err) {
    throw new UsageError(describeParseError(command, err, Object.keys(all)));
  }
  const asked = parsed.values as { help: boolean; version: boolean };
  if (asked.help) {
    process.stdout.write(help + '\n');
    return null;
  }
  if (asked.version) {
    process.stdout.write(`${ownVersion()}\n`);
    return null;
  }
  return parsed;
}

/** One line for a parseArgs error, naming the closest option when the one given does not exist. */
export function describeParseError(command: string, err: unknown, names: readonly string[]): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'(-{1,2}[^'=]+)/.exec((err as Error).message)?.[1] ?? '';
    const hint = closest(given.replace(/^-+/, ''), names);
    return `${command}: unknown option ${given}${hint === null ? '' : ` (did you mean --${hint}?)`}; 'cortex-local ${command} --help' lists the options`;
  }
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return `${command}: ${(err as Error).message}`;
  throw err;
}
