import { InvalidArgumentError, Option, type Command } from 'commander';

import { REGION_PATTERN } from '../aws-names.js';
import type { RunLedger } from '../ledger/index.js';

/**
 * Where a local run's ledger is (a `FileRunLedger`), from the working
 * directory: the place `FileRunLedger`'s own documentation names. It holds
 * `runs/` (one JSON file per run), `claims.json` and `limits.json`.
 */
export const DEFAULT_LEDGER_DIRECTORY = '.riposte/ledger';

/** The options that say which ledger a command reads. */
export interface LedgerOptions {
  readonly ledger?: string;
  readonly table?: string;
  readonly region?: string;
  readonly endpoint?: string;
}

/** `--region`'s parser: an AWS region, else a usage error (exit 2). */
export function region(value: string): string {
  if (!REGION_PATTERN.test(value)) throw new InvalidArgumentError('an AWS region such as us-east-1 is expected.');
  return value;
}

/** `--endpoint`'s parser: an http(s) URL, else a usage error (exit 2). */
export function endpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('an http(s) URL such as http://127.0.0.1:5000 is expected.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('an http(s) URL such as http://127.0.0.1:5000 is expected.');
  return value;
}

/** Declares `--ledger DIR | --table NAME [--region R] [--endpoint URL]` on a command. */
export function addLedgerOptions(command: Command): Command {
  return command
    .addOption(new Option('--ledger <dir>', `the file ledger of local runs (default: ${DEFAULT_LEDGER_DIRECTORY} under the working directory)`).conflicts('table'))
    .addOption(new Option('--table <name>', 'the DynamoDB ledger table of a deployment (credentials from the usual AWS chain)'))
    .addOption(new Option('--region <region>', 'the table’s region, with --table (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)').argParser(region))
    .addOption(new Option('--endpoint <url>', 'a DynamoDB endpoint to use instead of AWS’s, with --table (an emulator such as http://127.0.0.1:5000)').argParser(endpoint));
}

/**
 * The ledger the options name: the DynamoDB table with `--table`, else the
 * file ledger. What each needs is imported here, when it is asked for
 * (the configuration and the client factory only for a table).
 *
 * @throws ConfigError for a malformed AWS or Riposte environment variable (the table's client is configured as a function's is).
 */
export async function openLedger(options: LedgerOptions, command: Command): Promise<RunLedger> {
  if (options.table === undefined) {
    if (options.region !== undefined || options.endpoint !== undefined) command.error(`error: --region and --endpoint apply to a DynamoDB ledger: give --table too`);
    const { FileRunLedger } = await import('../ledger/index.js');
    return new FileRunLedger(options.ledger ?? DEFAULT_LEDGER_DIRECTORY);
  }
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }, { DynamoDbRunLedger }, { AwsClientFactory }, { loadConfig }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
    import('../ledger/index.js'),
    import('../aws/index.js'),
    import('../config.js'),
  ]);
  // The client is configured as a deployed function's is (RIPOSTE_AWS_ENDPOINT, RIPOSTE_MAX_ATTEMPTS), the options standing for their variables.
  const config = loadConfig({
    ...process.env,
    ...(options.region === undefined ? {} : { AWS_REGION: options.region }),
    ...(options.endpoint === undefined ? {} : { RIPOSTE_AWS_ENDPOINT: options.endpoint }),
  });
  const client = DynamoDBDocumentClient.from(new AwsClientFactory(config.aws).create(DynamoDBClient));
  return new DynamoDbRunLedger(client, options.table);
}
