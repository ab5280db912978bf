/**
 * The `neuroprobe` command line: a thin layer over the library. Exit codes: 0 success, 2 bad input or usage,
 * 1 internal error. Each subcommand lives in ./commands/<name>.ts and registers itself on the program.
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { InputError } from '../util/errors.js';
import { defaultIO, type CliIO } from './io.js';
import { COMMANDS } from './commands/index.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command();
  program
    .name('neuroprobe')
    .description('Neuron-level interpretation of pre-trained language models (Durrani et al., EMNLP 2020).')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .configureHelp({ optionDescription: describeOnce });
  for (const register of COMMANDS) register(program, io);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/**
 * An option's help text with its default printed once: commander appends `(default: x)`, which is left out when
 * the description already says what the default is.
 */
export function describeOnce(this: Help, opt: Option): string {
  const text = Help.prototype.optionDescription.call(this, opt);
  if (!/\(default\b|\bdefault\)|\(default:/i.test(opt.description)) return text;
  const tail = text.slice(opt.description.length).replace(/(,\s*)?default: (?:"[^"]*"|[^,)]*)/, '').replace(/\(\s*\)/, '');
  return opt.description + tail.trimEnd();
}

/** Run the CLI on `argv` (process.argv layout) and return the exit code. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  // `neuroprobe ... --json | head`: a closed pipe is the reader's choice, not an error
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return handleError(err, io);
  }
}

function handleError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // help and version exit with code 0; usage errors with 2 (commander already printed the message)
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2;
  }
  if (err instanceof InputError) {
    io.err(`neuroprobe: error: ${err.message}`);
    return 2;
  }
  const e = err as Error;
  io.err(`neuroprobe: internal error: ${e?.stack ?? String(err)}`);
  return 1;
}
