import { DescribeInstanceAttributeCommand, DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig, PACKAGED_PLAYBOOK_LIBRARY } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { parseManifestSignature, verifyManifestSignature } from '../../src/evidence/index.js';
import { compiledLibraryText } from '../../src/playbooks/index.js';
import { createLambdaRuntime, findingsHandler, MemoryMetricsSink, RiposteMetric } from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { compiledDefaultLibrary } from '../support/compiled-library.js';
import { emulatorClientFactory, emulatorEndpoint } from '../support/emulator.js';
import { createSigningKey, hostingKms } from '../support/emulator-kms.js';
import { compromisedInstance, EVIDENCE_BUCKET, guardDutyEventFor, LEDGER_TABLE, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';
import { serverlessConfig } from './serverless-config.js';

/*
 * The environment serverless.yml gives the functions (the provider's and
 * `custom.pipelineEnvironment`, with the stage parameters at their
 * defaults), its CloudFormation references resolved to the same resources
 * made on the emulator, fed to the cold-start wiring the deployed findings
 * function runs (`createLambdaRuntime`: loadConfig, the packaged playbooks,
 * the DynamoDB ledger, the queues). A reference the stack has and the test
 * does not provide fails the test: the environment is complete or this
 * says what is missing.
 */

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
const taskRoots: string[] = [];
afterEach(async () => {
  await lab?.close();
  lab = undefined;
  for (const directory of taskRoots.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** A function's package as serverless package lays it out, for what the cold start reads: the compiled playbook library. */
async function packagedTaskRoot(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'riposte-task-'));
  taskRoots.push(directory);
  await mkdir(join(directory, dirname(PACKAGED_PLAYBOOK_LIBRARY)), { recursive: true });
  await writeFile(join(directory, PACKAGED_PLAYBOOK_LIBRARY), compiledLibraryText(await compiledDefaultLibrary()));
  return directory;
}

/** The variables each pipeline function gets, with `{ Ref }`s left for the caller to resolve. */
function deployedVariables(): Record<string, unknown> {
  const config = serverlessConfig();
  expect(config.functions.findings?.environment, 'the findings function takes the pipeline environment').toBe('${self:custom.pipelineEnvironment}');
  return { ...config.provider.environment, ...config.custom.pipelineEnvironment };
}

describe('the environment serverless.yml gives the findings function', () => {
  it('builds a pipeline that runs the default isolation playbook enforced against the emulator, and signs its evidence manifest with the stack’s KMS key; state read back', async () => {
    lab = await pipelineLab();
    const sqs = emulatorClientFactory().create(SQSClient);
    // The stack's EvidenceSigningKey (ECC_NIST_P256, SIGN_VERIFY): its Ref is the key id.
    const signingKey = await createSigningKey(emulatorClientFactory(), 'ECC_NIST_P256');
    const queue = async (name: string): Promise<string> => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
    // What CloudFormation resolves each reference to, made on the emulator.
    const resources: Record<string, string> = {
      RunLedgerTable: LEDGER_TABLE,
      ResumeQueue: await queue('riposte-dev-resume'),
      RecordRetryQueue: await queue('riposte-dev-record-retry'),
      NotificationTopic: lab.topicArn,
      EvidenceBucket: EVIDENCE_BUCKET,
      EvidenceSigningKey: signingKey.KeyId,
    };
    const deployed = Object.fromEntries(
      Object.entries(deployedVariables()).map(([name, value]) => {
        if (typeof value === 'string') return [name, value];
        // An empty stage parameter (externalId's default) reads back from YAML as null; serverless gives it as ''.
        if (value === null) return [name, ''];
        const reference = (value as { Ref?: string }).Ref;
        expect(reference !== undefined && Object.hasOwn(resources, reference), `${name}: ${JSON.stringify(value)} is not a resource this test provides`).toBe(true);
        return [name, resources[reference as string] as string];
      }),
    );
    expect(deployed.RIPOSTE_AUTOMATIC).toBe('plan');
    const environment = {
      ...deployed,
      // What `serverless deploy --param automatic=enforce --param externalId=…` gives instead of the defaults.
      RIPOSTE_AUTOMATIC: 'enforce',
      RIPOSTE_EXTERNAL_ID: 'riposte-e2e',
      // What Lambda sets: the region, and the function's root (where serverless package puts the compiled library).
      AWS_REGION: 'us-east-1',
      LAMBDA_TASK_ROOT: await packagedTaskRoot(),
      // The emulator instead of AWS.
      RIPOSTE_AWS_ENDPOINT: emulatorEndpoint(),
    };
    const metrics = new MemoryMetricsSink();
    const runtime = await createLambdaRuntime({
      environment,
      factory: new AwsClientFactory(loadConfig(environment).aws, emulatorClientOptions()),
      logger: new RiposteLogger({ logLevel: 'info', stream: new MemoryLogSink() }),
      metrics,
    });
    const instance = await compromisedInstance(lab.clients, MEMBER);
    const event = guardDutyEventFor(MEMBER, instance);
    const record = {
      messageId: randomUUID(),
      receiptHandle: 'receipt',
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:riposte-dev-findings',
      awsRegion: 'us-east-1',
    };

    const response = await findingsHandler(() => Promise.resolve(runtime))(
      { Records: [record] },
      { awsRequestId: randomUUID(), functionName: 'riposte-dev-findings', getRemainingTimeInMillis: () => 900_000 },
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(metrics.total(RiposteMetric.Runs, 'succeeded')).toBe(1);
    const ec2 = lab.clients.create(EC2Client, target);
    const { NetworkInterfaces = [] } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
    const groups = new Set(NetworkInterfaces.flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId)));
    expect(groups.size).toBe(1);
    expect(Object.values(instance.interfaces).flat()).not.toContain([...groups][0]);
    expect((await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }))).DisableApiTermination?.Value).toBe(true);
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
    expect(Snapshots).toHaveLength(instance.volumeIds.length);

    // The manifest the capture step stored, and its signature beside it (manifest.json.sig), as an investigator
    // downloads them; checked with the key's public half alone, from one GetPublicKey.
    const s3 = emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });
    const read = async (key: string): Promise<Uint8Array> => (await (await s3.send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `evidence/${MEMBER}/${instance.instanceId}/` }));
    const signatures = Contents.map((object) => object.Key as string).filter((key) => key.endsWith('/manifest.json.sig'));
    expect(signatures).toHaveLength(1);
    const signatureKey = signatures[0] as string;
    const [manifest, signatureFile] = await Promise.all([read(signatureKey.slice(0, -'.sig'.length)), read(signatureKey)]);
    const signature = parseManifestSignature(signatureFile, signatureKey);
    expect(signature).toMatchObject({ keyId: signingKey.Arn, signingAlgorithm: 'ECDSA_SHA_256', messageType: 'DIGEST' });
    const { PublicKey } = await hostingKms(emulatorClientFactory()).send(new GetPublicKeyCommand({ KeyId: signingKey.Arn }));
    expect(verifyManifestSignature({ manifest, signature, publicKey: PublicKey ?? new Uint8Array() })).toMatchObject({ valid: true, problems: [] });
    // Not vacuous: another manifest does not check with that signature.
    expect(verifyManifestSignature({ manifest: Buffer.concat([manifest, Buffer.from(' ')]), signature, publicKey: PublicKey ?? new Uint8Array() }).valid).toBe(false);
  });
});
