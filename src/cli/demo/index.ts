import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

import { AwsClientFactory, MemberClients, MemberCredentials } from '../../aws/index.js';
import { loadConfig } from '../../config.js';
import { emulatorClientOptions, startEmulator } from '../../emulator/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../../playbooks/index.js';
import type { CommandIo } from '../io.js';
import { cisStory, intakeStory, type DemoScene } from './cis-story.js';
import { missionStory, readState } from './mission.js';
import { installMoto, motoSetupFor, probeMoto } from './moto.js';
import { ACCOUNT_A, ACCOUNT_B, createHosting, createWorld, memberTarget, REGION } from './world.js';

/**
 * The project's directory: the nearest one up from this module holding playbooks/ and examples/. This module runs
 * from src/cli/demo (tsx) or bundled into dist/cli, at different depths.
 */
function projectRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(directory, 'playbooks')) && existsSync(join(directory, 'examples', 'events')))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`no playbooks/ and examples/events/ above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
  return directory;
}

/**
 * `riposte demo`, on the embedded AWS emulator (moto_server with the
 * project's Security Hub additions), so it needs no AWS account: the CIS
 * story through the pipeline (plan, then enforced), then the mission
 * through the Lambda functions' handlers, the rollback of the isolation
 * and its timeline. The emulator is stopped at the end, or by the exit
 * hook the launcher installs when the process is ended early (signals.ts).
 */
export async function runDemo(io: CommandIo): Promise<void> {
  const say = (line = ''): void => void io.stdout.write(`${line}\n`);
  const started = Date.now();
  const root = projectRoot();
  const pathVariable = process.env.PATH ?? '';
  const setup = motoSetupFor(await probeMoto(root, pathVariable), root, pathVariable);
  if (setup.kind === 'install') {
    say(setup.message);
    await installMoto(setup.commands, root, (text) => io.stderr.write(text));
    say('moto installed.');
  }
  say('Starting the AWS emulator (moto_server)…');
  const emulator = await startEmulator(setup.kind === 'path' ? {} : { searchPath: setup.searchPath });
  try {
    const factory = new AwsClientFactory({ region: REGION, endpoint: emulator.endpoint, maxAttempts: 2 }, emulatorClientOptions());
    say(`Emulator at ${emulator.endpoint}`);

    // Member accounts, reached the way production reaches them: STS AssumeRole, one session per account.
    const clients = new MemberClients(
      factory,
      new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-demo', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false }),
    );
    // The account the demo's own credentials are in plays the hosting account (the member template names it).
    const hostingAccount = (await factory.create(STSClient).send(new GetCallerIdentityCommand({}))).Account as string;
    const [playbooks, hosting, world, assumed] = await Promise.all([
      loadPlaybooks(join(root, 'playbooks')).then(({ playbooks: loaded, problems }) => {
        if (problems.length > 0) throw new PlaybookCompileError(problems);
        return loaded;
      }),
      createHosting(factory),
      createWorld(clients, hostingAccount),
      Promise.all([ACCOUNT_A, ACCOUNT_B].map((account) => clients.create(STSClient, memberTarget(account)).send(new GetCallerIdentityCommand({})))),
    ]);
    for (const identity of assumed) say(`Assumed ${identity.Arn}`);
    say(`Loaded ${playbooks.length} playbooks from playbooks/`);
    say();

    const scene: DemoScene = {
      root,
      endpoint: emulator.endpoint,
      factory,
      clients,
      hosting,
      config: loadConfig({
        AWS_REGION: REGION,
        RIPOSTE_AWS_ENDPOINT: emulator.endpoint,
        RIPOSTE_LEDGER_TABLE: hosting.table,
        RIPOSTE_TOPIC_ARN: hosting.topicArn,
        RIPOSTE_EVENT_BUS: hosting.bus,
        RIPOSTE_EVIDENCE_BUCKET: hosting.evidenceBucket,
        RIPOSTE_EVIDENCE_SIGNING_KEY: hosting.evidenceSigningKey,
        RIPOSTE_FORENSICS_ACCOUNT: world.forensics.account,
        RIPOSTE_EXTERNAL_ID: 'riposte-demo',
      }),
      playbooks,
      say,
    };
    // Before any story: the table at the end shows what every story changed.
    const before = await readState(scene, world);
    await intakeStory(scene);
    await cisStory(scene);
    await missionStory(scene, world, before);
    say(`Demo done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await emulator.stop();
    say('Emulator stopped.');
  }
}
