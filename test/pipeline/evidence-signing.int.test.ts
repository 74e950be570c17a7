import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { parseManifestSignature, verifyManifestSignature } from '../../src/evidence/index.js';
import { createLambdaRuntime } from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { emulatorClientFactory, emulatorEndpoint } from '../support/emulator.js';
import { createSigningKey, hostingKms } from '../support/emulator-kms.js';
import { EVIDENCE_BUCKET, eventFor, LEDGER_TABLE, onlyRun, pipelineLab, playbooksFromYaml, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * Issue 17, "Evidence that holds up", as a deployment configures it: the
 * pipeline assembled from the environment (`createLambdaRuntime`, as every
 * pipeline function's cold start) gives the evidence steps the Region's
 * bucket from RIPOSTE_EVIDENCE_BUCKETS and a signer over KMS for
 * RIPOSTE_EVIDENCE_SIGNING_KEY. The key here is another Region's than the
 * hosting one: KMS answers for a key only in its own Region, so the signer
 * asks the Region its ARN names.
 */

const MEMBER = '222222222222';
const EU = 'eu-west-1';
const EU_BUCKET = 'riposte-evidence-123456789012-eu-west-1';

const PLAYBOOK = `
- id: capture-only
  title: Capture evidence
  triggers: { automatic: true }
  match: { product.id: guardduty, resource.type: AwsEc2Instance }
  steps:
    - ec2.capture-metadata: { screenshot: false }
`;

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

const s3In = (region: string): S3Client => emulatorClientFactory().create(S3Client, { region }, { forcePathStyle: true });
const keysIn = async (bucket: string, region: string): Promise<string[]> =>
  ((await s3In(region).send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((object) => object.Key as string);
const bytesOf = async (bucket: string, region: string, key: string): Promise<Uint8Array> =>
  (await (await s3In(region).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();

describe('the assembled pipeline’s evidence settings', () => {
  it('stores an eu-west-1 instance’s evidence in the eu-west-1 bucket RIPOSTE_EVIDENCE_BUCKETS names, its manifest signed by the eu-west-1 key RIPOSTE_EVIDENCE_SIGNING_KEY names (asked in its Region), and checked with the public key alone', async () => {
    lab = await pipelineLab();
    const factory = emulatorClientFactory();
    await s3In(EU).send(new CreateBucketCommand({ Bucket: EU_BUCKET, CreateBucketConfiguration: { LocationConstraint: EU } }));
    const key = await createSigningKey(factory, 'ECC_NIST_P256', EU);
    const resumeQueue = (await factory.create(SQSClient).send(new CreateQueueCommand({ QueueName: 'riposte-signing-resume' }))).QueueUrl as string;
    const environment = {
      AWS_REGION: 'us-east-1',
      RIPOSTE_AWS_ENDPOINT: emulatorEndpoint(),
      RIPOSTE_AUTOMATIC: 'enforce',
      RIPOSTE_EXTERNAL_ID: 'riposte-e2e',
      RIPOSTE_LEDGER_TABLE: LEDGER_TABLE,
      RIPOSTE_RESUME_QUEUE_URL: resumeQueue,
      RIPOSTE_EVIDENCE_BUCKET: EVIDENCE_BUCKET,
      RIPOSTE_EVIDENCE_BUCKETS: JSON.stringify({ [EU]: EU_BUCKET }),
      RIPOSTE_EVIDENCE_SIGNING_KEY: key.Arn,
    };
    const runtime = await createLambdaRuntime({
      environment,
      factory: new AwsClientFactory(loadConfig(environment).aws, emulatorClientOptions()),
      logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }),
      playbooks: playbooksFromYaml(PLAYBOOK),
    });
    const { Instances } = await lab.clients
      .create(EC2Client, { account: MEMBER, region: EU, partition: 'aws', correlationId: 'setup' })
      .send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const instanceId = Instances?.[0]?.InstanceId as string;
    const event = eventFor('guardduty-ec2-backdoor.json', MEMBER, { 'us-east-1': EU, 'i-0a1b2c3d4e5f60718': instanceId });

    const result = await runtime.pipeline.handleEvent(event);

    expect(onlyRun(result.findings[0]?.runs)).toMatchObject({ status: 'succeeded' });
    expect(await keysIn(EVIDENCE_BUCKET, 'us-east-1')).toEqual([]);
    const stored = await keysIn(EU_BUCKET, EU);
    const signatureKey = stored.find((name) => name.startsWith(`evidence/${MEMBER}/${instanceId}/`) && name.endsWith('/manifest.json.sig'));
    expect(signatureKey, stored.join('\n')).toBeDefined();
    const [manifest, signatureFile] = await Promise.all([bytesOf(EU_BUCKET, EU, (signatureKey as string).slice(0, -'.sig'.length)), bytesOf(EU_BUCKET, EU, signatureKey as string)]);
    const signature = parseManifestSignature(signatureFile);
    expect(signature).toMatchObject({ keyId: key.Arn, signingAlgorithm: 'ECDSA_SHA_256' });
    const { PublicKey } = await hostingKms(factory, EU).send(new GetPublicKeyCommand({ KeyId: key.Arn }));
    expect(verifyManifestSignature({ manifest, signature, publicKey: PublicKey ?? new Uint8Array() })).toMatchObject({ valid: true, problems: [] });
  });
});
