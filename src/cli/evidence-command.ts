import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';

import { InvalidArgumentError, type Command } from 'commander';

import { evidenceBucketTemplate, EvidenceVerificationInputError, RetentionMode, verifyManifestSignature, type ManifestVerification } from '../evidence/index.js';
import { localFileError, readTextFile } from '../files.js';
import { terminalLines } from './format.js';
import { ExitCode, type CommandIo } from './io.js';

/** A manifest, its signature file and a public key are small: anything larger is not one. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export interface EvidenceVerifyInput {
  /** The manifest as downloaded (`manifest.json`). */
  readonly manifest: string;
  /** Its signature file (`manifest.json.sig`). */
  readonly signature: string;
  /** The signing key's public key: PEM, or the base64 of GetPublicKey's DER. */
  readonly publicKey: string;
  /** A directory holding the objects the manifest lists (by their file names): each is checked against its digest. */
  readonly objects?: string;
}

/** One object of the manifest as checked against a downloaded copy. */
export interface ObjectCheck {
  readonly key: string;
  readonly file: string;
  readonly expected: string;
  /** Hex SHA-256 of the file, or `undefined` when it is missing. */
  readonly actual: string | undefined;
}

export interface EvidenceVerifyReport {
  readonly signature: ManifestVerification;
  /** Present with `objects`: each listed object's copy, checked. */
  readonly objects?: readonly ObjectCheck[];
  /** The signature checks and every object copy matches its digest. */
  readonly valid: boolean;
}

interface ManifestObjects {
  readonly objects?: ReadonlyArray<{ readonly key?: unknown; readonly sha256?: unknown }>;
}

async function fileSha256(file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw localFileError(file, error);
  }
  return hash.digest('hex');
}

/**
 * Checks an evidence manifest with the signing key's public key alone (no
 * AWS call), and, given a directory of downloaded objects, each object the
 * manifest lists against its SHA-256. What `riposte evidence verify` runs.
 *
 * @throws LocalFileError for a file that cannot be read; EvidenceVerificationInputError for a signature file or key that is not one.
 */
export async function verifyEvidence(input: EvidenceVerifyInput): Promise<EvidenceVerifyReport> {
  const [manifest, signature, publicKey] = await Promise.all([
    readTextFile(input.manifest, { maxBytes: MAX_INPUT_BYTES, what: 'an evidence manifest' }),
    readTextFile(input.signature, { maxBytes: MAX_INPUT_BYTES, what: 'a manifest signature file' }),
    readTextFile(input.publicKey, { maxBytes: MAX_INPUT_BYTES, what: 'a public key file' }),
  ]);
  const manifestBytes = Buffer.from(manifest, 'utf8');
  const checked = verifyManifestSignature({ manifest: manifestBytes, signature, publicKey });
  if (input.objects === undefined) return { signature: checked, valid: checked.valid };

  let listed: ManifestObjects;
  try {
    listed = JSON.parse(manifest) as ManifestObjects;
  } catch (error) {
    throw new EvidenceVerificationInputError(`${input.manifest} is not JSON`, { file: input.manifest }, error);
  }
  const objects = await Promise.all(
    (listed.objects ?? []).map(async (object): Promise<ObjectCheck> => {
      const key = String(object.key);
      const file = join(input.objects as string, basename(key));
      return { key, file, expected: String(object.sha256), actual: await fileSha256(file) };
    }),
  );
  return { signature: checked, objects, valid: checked.valid && objects.every((object) => object.actual === object.expected) };
}

function reportLines(report: EvidenceVerifyReport): string[] {
  const { signature } = report;
  const lines = [
    signature.valid
      ? `manifest signature valid: ${signature.signingAlgorithm} by ${signature.keyId} over sha256 ${signature.manifestSha256}`
      : `manifest signature INVALID (key ${signature.keyId}, ${signature.signingAlgorithm}):`,
    ...signature.problems.map((problem) => `  ${problem}`),
  ];
  for (const object of report.objects ?? []) {
    if (object.actual === object.expected) lines.push(`ok       ${object.key}`);
    else if (object.actual === undefined) lines.push(`MISSING  ${object.key} (no ${object.file})`);
    else lines.push(`CHANGED  ${object.key}: sha256 ${object.actual}, the manifest records ${object.expected}`);
  }
  lines.push(report.valid ? 'evidence verified' : 'evidence NOT verified');
  return lines;
}

const retentionMode = (value: string): RetentionMode => {
  const modes: readonly string[] = Object.values(RetentionMode);
  if (!modes.includes(value)) throw new InvalidArgumentError(`must be one of ${modes.join(', ')}`);
  return value as RetentionMode;
};

const retentionDays = (value: string): number => {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new InvalidArgumentError('must be a whole number of days, 1 to 36500');
  return days;
};

/**
 * `riposte evidence verify`: checks a run's evidence manifest against its
 * signature with the public key alone, offline; `riposte evidence
 * template`: the per-Region evidence bucket template (CloudFormation).
 */
export function registerEvidenceCommand(program: Command, io: CommandIo): void {
  const evidence = program.command('evidence').description('check signed evidence manifests offline, and print the per-Region evidence bucket template');

  evidence
    .command('verify')
    .description("check an evidence manifest's signature with the signing key's public key alone (no AWS call), and optionally downloaded objects against its digests")
    .requiredOption('--manifest <file>', 'the manifest (manifest.json)')
    .requiredOption('--signature <file>', 'its signature file (manifest.json.sig)')
    .requiredOption('--public-key <file>', "the signing key's public key: PEM, or the base64 that `aws kms get-public-key --query PublicKey --output text` prints")
    .option('--objects <dir>', 'a directory holding the objects the manifest lists, by file name: each is checked against its SHA-256')
    .option('--json', 'print the report as JSON')
    .action(async (options: { manifest: string; signature: string; publicKey: string; objects?: string; json?: boolean }) => {
      let report: EvidenceVerifyReport;
      try {
        report = await verifyEvidence(options);
      } catch (error) {
        if (!(error instanceof EvidenceVerificationInputError)) throw error;
        io.stderr.write(`${terminalLines([`${error.name}: ${error.message}`])}\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      io.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${terminalLines(reportLines(report))}\n`);
      if (!report.valid) io.exitCode = ExitCode.Failed;
    });

  evidence
    .command('template')
    .description("print the CloudFormation template of one Region's evidence bucket (Object Lock, versioning, encryption, TLS only): deploy it in every Region Riposte acts in")
    .option('--retention-mode <mode>', 'default of RetentionMode: GOVERNANCE or COMPLIANCE', retentionMode, RetentionMode.Governance)
    .option('--retention-days <days>', 'default of RetentionDays', retentionDays, 365)
    .action((options: { retentionMode: RetentionMode; retentionDays: number }) => {
      io.stdout.write(`${JSON.stringify(evidenceBucketTemplate({ retentionMode: options.retentionMode, retentionDays: options.retentionDays }), null, 2)}\n`);
    });
}
