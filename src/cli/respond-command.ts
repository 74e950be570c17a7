import type { Command } from 'commander';

import { readApiRequest } from '../intake/index.js';
import type { OnDemandAmbiguousError, OnDemandRefusedError } from '../pipeline/index.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';
import { region } from './ledger-option.js';
import { anyFailed, describeRun, localPipeline, pipelineOptions, type PipelineCommandOptions } from './local-pipeline.js';

/** The pipeline's refusals of an on-demand request, by code (checked against the classes by tsc). */
const ON_DEMAND_AMBIGUOUS: OnDemandAmbiguousError['code'] = 'ON_DEMAND_AMBIGUOUS';
const ON_DEMAND_REFUSED: OnDemandRefusedError['code'] = 'ON_DEMAND_REFUSED';

interface RespondOptions extends PipelineCommandOptions {
  readonly instance: string;
  readonly account: string;
  readonly region: string;
  readonly playbook?: string;
  readonly reason?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/**
 * `riposte respond --instance i-… --account N --region R`: the on-demand
 * path (what `POST /respond` does), from a terminal: the request is read by
 * the same intake as the API's (formats checked, unknown fields refused) and
 * recorded as asked by `cli:<user>`.
 */
export function registerRespondCommand(program: Command, io: CommandIo): void {
  pipelineOptions(
    program
      .command('respond')
      .description('respond to one EC2 instance on demand (the API’s POST /respond), with the playbooks that take on-demand requests')
      .requiredOption('--instance <id>', 'the instance, i-…')
      .requiredOption('--account <id>', 'its account (12 digits)')
      .requiredOption('--region <region>', 'its region', region)
      .option('--playbook <id>', 'the playbook to run (default: the one whose match takes the instance; of several, the one marked triggers.api: { default: true })')
      .option('--reason <text>', 'why, recorded in the run')
      .option('--dry-run', 'plan only: read live state, change nothing')
      .option('--json', 'print the pipeline result as JSON'),
    // Its --region is the instance's, and the home region with it.
    { region: false },
  ).action(async (options: RespondOptions) => {
    const { pipeline, principal } = await localPipeline(options, io.stderr);
    const request = {
      instanceId: options.instance,
      account: options.account,
      region: options.region,
      ...(options.playbook === undefined ? {} : { playbook: options.playbook }),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.dryRun === true ? { dryRun: true } : {}),
    };
    const intake = readApiRequest(request, { principal });
    const result = await pipeline.handleIntake(intake);
    const runs = result.findings.flatMap((finding) => finding.runs);
    // No playbook takes it, or several do and none is the default (src/pipeline/on-demand.ts): what was asked is at fault, and nothing ran.
    const refused = result.findings.map((finding) => finding.error).find((error) => error?.code === ON_DEMAND_REFUSED || error?.code === ON_DEMAND_AMBIGUOUS);
    if (refused !== undefined) {
      if (options.json === true) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      io.stderr.write(`${terminalLines([`${refused.name}: ${refused.message}`])}\n`);
      io.exitCode = ExitCode.BadInput;
      return;
    }
    if (options.json === true) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const lines = runs.length === 0 ? [terminalLines(['no playbook takes on-demand requests for this instance (triggers.api)'])] : runs.map(describeRun);
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    // No playbook for it, or an instance the account does not have (the API's 404): what was asked is at fault.
    if (runs.length === 0 || runs.every((run) => run.guard?.code === 'target-stale')) io.exitCode = ExitCode.BadInput;
    if (anyFailed(runs)) io.exitCode = ExitCode.Failed;
  });
}
