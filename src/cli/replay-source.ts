import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';

import { localFileError, readTextFile, readTextStream, type ReadLimits } from '../files.js';

/**
 * What `riposte plan` reads: one event, or many events or bare findings for
 * a shadow replay. A file holds a JSON event, a bare ASFF or OCSF finding, a
 * list of them (`[…]`, or GetFindings' `{ "Findings": […] }`), or one per line
 * (NDJSON); a directory, every `.json`, `.ndjson` and `.jsonl` file under it,
 * in name order; `-`, standard input.
 */

/** A month of findings for a large organization, exported: far above it is a mistake, refused before it is read. */
const REPLAY_LIMITS: ReadLimits = { maxBytes: 1024 * 1024 * 1024, what: 'a replay source' };

const REPLAY_EXTENSIONS = new Set(['.json', '.ndjson', '.jsonl']);

/** One item read from a source: its value (or why it could not be read), and where it came from. */
export type ReplayItem = { readonly origin: string; readonly value: unknown } | { readonly origin: string; readonly error: string };

/** The items of one text: JSON (one value, a list, GetFindings' answer) or NDJSON. */
function itemsOfText(text: string, origin: string): ReplayItem[] {
  const trimmed = text.trim();
  if (trimmed === '') return [{ origin, error: 'is empty' }];
  try {
    const value: unknown = JSON.parse(trimmed);
    if (Array.isArray(value)) return (value as unknown[]).map((item, index) => ({ origin: `${origin}[${index}]`, value: item }));
    if (value !== null && typeof value === 'object' && Array.isArray((value as { Findings?: unknown }).Findings) && !('detail-type' in value)) {
      return ((value as { Findings: unknown[] }).Findings ?? []).map((item, index) => ({ origin: `${origin}.Findings[${index}]`, value: item }));
    }
    return [{ origin, value }];
  } catch {
    // Not one JSON value: one per line.
  }
  const items: ReplayItem[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const lineOrigin = `${origin}:${index + 1}`;
    try {
      items.push({ origin: lineOrigin, value: JSON.parse(line) as unknown });
    } catch (error) {
      items.push({ origin: lineOrigin, error: `is not JSON (${(error as Error).message})` });
    }
  });
  return items;
}

/** The files a directory holds, recursively, in name order. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (REPLAY_EXTENSIONS.has(extname(entry.name))) files.push(path);
  }
  return files;
}

/**
 * Every item of a source, one file at a time.
 * @throws LocalFileError when the source itself cannot be read (missing, a device, too large).
 */
export async function* replayItems(source: string, stdin: Readable): AsyncGenerator<ReplayItem> {
  if (source === '-') {
    yield* itemsOfText(await readTextStream(stdin, 'standard input', REPLAY_LIMITS), 'standard input');
    return;
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(source)).isDirectory();
  } catch (error) {
    throw localFileError(source, error);
  }
  const files = isDirectory ? await filesUnder(source) : [source];
  for (const file of files) yield* itemsOfText(await readTextFile(file, REPLAY_LIMITS), file);
}

/** Which findings `--from-security-hub` reads: GetFindings' string filters (EQUALS), and an UpdatedAt window. */
export interface SecurityHubQuery {
  /** `Field=Value` pairs, e.g. `ProductName=GuardDuty`, `ComplianceStatus=FAILED`, `AwsAccountId=111122223333` (one field may repeat: any of its values). */
  readonly filters: readonly string[];
  /** Only findings updated since then. */
  readonly since?: Date;
  readonly region?: string;
  readonly endpoint?: string;
  /** Stop after this many findings. */
  readonly limit?: number;
}

/** GetFindings allows 3 requests a second (burst 6) per account and region: one page every 340 ms stays under it. */
const GET_FINDINGS_INTERVAL_MS = 340;

/** GetFindings' filters from `Field=Value` strings (checked by the option's parser) and the window. */
export function securityHubFilters(query: SecurityHubQuery): Record<string, Array<{ Value?: string; Comparison?: 'EQUALS'; Start?: string; End?: string }>> {
  const filters: Record<string, Array<{ Value?: string; Comparison?: 'EQUALS'; Start?: string; End?: string }>> = {};
  for (const pair of query.filters) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at);
    (filters[field] ??= []).push({ Value: pair.slice(at + 1), Comparison: 'EQUALS' });
  }
  if (query.since !== undefined) filters.UpdatedAt = [{ Start: query.since.toISOString(), End: new Date().toISOString() }];
  return filters;
}

/**
 * Findings read from Security Hub, page by page (GetFindings, 100 a page,
 * at most 3 pages a second), with read-only permissions (securityhub:GetFindings).
 * @throws ConfigError (a malformed AWS or Riposte variable), the SDK's errors (AccessDenied, an unknown filter field).
 */
export async function* securityHubItems(query: SecurityHubQuery): AsyncGenerator<ReplayItem> {
  const [{ GetFindingsCommand, SecurityHubClient }, { AwsClientFactory }, { loadConfig }, { emulatorClientOptions }] = await Promise.all([
    import('@aws-sdk/client-securityhub'),
    import('../aws/index.js'),
    import('../config.js'),
    import('../emulator/index.js'),
  ]);
  const config = loadConfig({
    ...process.env,
    ...(query.region === undefined ? {} : { AWS_REGION: query.region }),
    ...(query.endpoint === undefined ? {} : { RIPOSTE_AWS_ENDPOINT: query.endpoint }),
  });
  // An endpoint is the emulator (or a proxy to it): it takes any signature, and no credentials are needed.
  const securityHub = new AwsClientFactory(config.aws, config.aws.endpoint === undefined ? {} : emulatorClientOptions()).create(SecurityHubClient);
  const Filters = securityHubFilters(query);
  let NextToken: string | undefined;
  let read = 0;
  let last = 0;
  do {
    const wait = last + GET_FINDINGS_INTERVAL_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    last = Date.now();
    const page = await securityHub.send(new GetFindingsCommand({ Filters, MaxResults: 100, ...(NextToken === undefined ? {} : { NextToken }) }));
    for (const finding of page.Findings ?? []) {
      if (query.limit !== undefined && read >= query.limit) return;
      read += 1;
      yield { origin: `securityhub:${finding.Id ?? read}`, value: finding };
    }
    NextToken = page.NextToken || undefined;
  } while (NextToken !== undefined && (query.limit === undefined || read < query.limit));
}
