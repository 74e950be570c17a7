import { Command, CommanderError } from 'commander';

import { neutralise } from '../neutralise.js';
import { nearest } from '../suggest.js';
import { ExitCode, type CliStreams, type CommandIo } from './io.js';

/** A command's registration: declares its arguments and options on `program` and what it does. */
type Register = (program: Command, io: CommandIo) => void;

/**
 * Every command, by name: what `riposte --help` lists, and where the
 * command's code is. Only the command invoked is loaded (the compiled CLI
 * is split at these imports), so `riposte --help` loads none of them and
 * `riposte validate` only the playbook compiler.
 */
const COMMANDS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<Register> }>> = {
  validate: {
    summary: 'check playbooks: schema, match fields and types, actions and parameters, custom actions',
    load: async () => (await import('./validate-command.js')).registerValidateCommand,
  },
  intake: {
    summary: 'read an EventBridge event (or an on-demand request) and print the findings Riposte sees',
    load: async () => (await import('./intake-command.js')).registerIntakeCommand,
  },
  plan: {
    summary: 'what the playbooks would do to findings, offline: one event, or a shadow replay of many',
    load: async () => (await import('./plan-command.js')).registerPlanCommand,
  },
  patterns: {
    summary: 'print the EventBridge event patterns each playbook compiles to: its automatic trigger’s and its custom action’s',
    load: async () => (await import('./patterns-command.js')).registerPatternsCommand,
  },
  runs: {
    summary: 'list the runs in the ledger (.riposte/ledger, or a DynamoDB --table), newest first, or show one (--id) as a timeline',
    load: async () => (await import('./runs-command.js')).registerRunsCommand,
  },
  run: {
    summary: 'run the pipeline on one event (against AWS, or --endpoint), as the findings function does',
    load: async () => (await import('./run-command.js')).registerRunCommand,
  },
  respond: {
    summary: 'respond to one EC2 instance on demand (the API’s POST /respond)',
    load: async () => (await import('./respond-command.js')).registerRespondCommand,
  },
  rollback: {
    summary: 'undo the reversible steps of a run, as POST /runs/{id}/rollback does',
    load: async () => (await import('./rollback-command.js')).registerRollbackCommand,
  },
  test: {
    summary: 'run the playbook tests: each event fixture against its golden file (offline); --update rewrites the golden files',
    load: async () => (await import('./test-command.js')).registerTestCommand,
  },
  reference: {
    summary: 'print (or write with --output docs) the playbook and action references, generated from the schema and the action registry',
    load: async () => (await import('./reference-command.js')).registerReferenceCommand,
  },
  schema: { summary: 'print (or write) the playbook JSON Schema used by editors', load: async () => (await import('./schema-command.js')).registerSchemaCommand },
  roles: {
    summary: 'print the CloudFormation template of the member-account role: least privilege for the actions the playbooks use (--all: every action)',
    load: async () => (await import('./roles-command.js')).registerRolesCommand,
  },
  forwarders: {
    summary: 'print the CloudFormation template (for StackSets) that forwards the GuardDuty and Config events the playbooks act on to the home region',
    load: async () => (await import('./forwarders-command.js')).registerForwardersCommand,
  },
  evidence: {
    summary: 'check a signed evidence manifest with the public key alone (verify), or print the per-Region evidence bucket template (template)',
    load: async () => (await import('./evidence-command.js')).registerEvidenceCommand,
  },
  demo: { summary: 'run Riposte against the embedded AWS emulator (moto_server)', load: async () => (await import('./demo-command.js')).registerDemoCommand },
};

/**
 * A command's failure as the terminal shows it, every line neutralised
 * (messages quote file names, YAML and findings): a Riposte error as
 * `Name: message` (a playbook error with one problem a line), anything else
 * with its stack frames under `--verbose` only, since that is a bug to report;
 * and its exit code: 2 when what was given (a file, an event, a playbook, a
 * variable, a run id) is at fault rather than the work.
 *
 * The error classes are imported here, on the failure path, not at the top:
 * their modules reach the compiler and the SDK (even errors.ts: the SDK's
 * retry classification), which `--help` must not load.
 */
async function failure(error: unknown, verbose: boolean): Promise<{ text: string; code: number }> {
  const [{ RiposteError }, { LocalFileError }, { ConfigError }, { IntakeError }, { formatProblem, PlaybookCompileError }, { RollbackRefusedError, RunUnknownError }] = await Promise.all([
    import('../errors.js'),
    import('../files.js'),
    import('../config.js'),
    import('../intake/index.js'),
    import('../playbooks/index.js'),
    import('../pipeline/index.js'),
  ]);
  const badInput = [LocalFileError, PlaybookCompileError, IntakeError, ConfigError, RunUnknownError, RollbackRefusedError].some((type) => error instanceof type);
  const code = badInput ? ExitCode.BadInput : ExitCode.Failed;
  if (error instanceof PlaybookCompileError) {
    const lines = [`${error.name}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in playbooks`, ...error.problems.map(formatProblem)];
    return { text: lines.map(neutralise).join('\n'), code };
  }
  if (error instanceof RiposteError) {
    const context = verbose && Object.keys(error.context).length > 0 ? `\n${neutralise(JSON.stringify(error.context))}` : '';
    return { text: `${error.name}: ${neutralise(error.message)}${context}`, code };
  }
  if (!(error instanceof Error)) return { text: neutralise(String(error)), code };
  const frames = verbose ? (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return { text: [`${error.name}: ${error.message}${verbose ? '' : ' (--verbose shows where)'}`, ...frames].map(neutralise).join('\n'), code };
}

/** The command a command line names: its first argument that is not an option (`help validate` names validate). */
function commandNamed(args: readonly string[]): string | undefined {
  const [first, second] = args.filter((arg) => !arg.startsWith('-'));
  return first === 'help' && second !== undefined ? second : first;
}

/**
 * Runs one `riposte` command line in this process and returns its exit
 * code. `riposte` itself (main.ts) runs it on the process's streams; tests
 * run it on in-memory ones, so a command is tested without starting a
 * process.
 *
 * ```ts
 * const code = await runCli(['validate', 'playbooks'], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
 * ```
 *
 * @param args the arguments after `riposte`, e.g. `['validate', 'playbooks']`.
 */
export async function runCli(args: readonly string[], streams: CliStreams): Promise<number> {
  const io: CommandIo = { ...streams, exitCode: ExitCode.Ok };
  const verbose = args.includes('--verbose');
  // Usage errors quote the arguments given: each line of them neutralised.
  const writeErr = (text: string): unknown => io.stderr.write(text.split('\n').map(neutralise).join('\n'));
  // exitOverride: commander throws instead of ending the process (help, a
  // usage error); the commands added below inherit it and the output.
  const program = new Command()
    .name('riposte')
    .description('Remediation rules engine for AWS security findings')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr });

  const named = commandNamed(args);
  if (named !== undefined && !Object.hasOwn(COMMANDS, named)) {
    // Refused before commander sees it: `riposte nosuch --help` would otherwise print the program's help and exit 0.
    const suggestion = nearest(named, Object.keys(COMMANDS));
    writeErr(`error: unknown command '${named}'${suggestion === undefined ? '' : `\n(Did you mean ${suggestion}?)`}\n`);
    writeErr(`Usage: riposte <command> [options] (riposte --help lists the commands)\n`);
    return ExitCode.BadInput;
  }
  for (const [name, command] of Object.entries(COMMANDS)) {
    if (name === named) (await command.load())(program, io);
    else program.command(name).description(command.summary);
  }

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    // Commander has already written its message (or the help): help exits 0, a usage error 2.
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
    const { text, code } = await failure(error, verbose);
    io.stderr.write(`${text}\n`);
    return code;
  }
  return io.exitCode;
}
