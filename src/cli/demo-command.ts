import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';

import { AwsClientFactory } from '../aws/client-factory.js';
import { startEmulator } from '../aws/emulator.js';
import { IndexedMatcher } from '../engine/index.js';
import { readEvent } from '../intake/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../playbooks/index.js';
import { describeFinding, describeMatch } from './format.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'examples', 'events');
const MEMBER_ACCOUNT = '111122223333';

/**
 * `riposte demo`: runs against the embedded AWS emulator (moto_server), so it
 * needs no AWS account. Today it shows the stages that exist: a member
 * account with a weak password policy, reached by AssumeRole; the Security
 * Hub and GuardDuty findings as intake reads them; the playbooks they match
 * and why. Remediation joins as it lands.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run Riposte against the embedded AWS emulator (moto_server)')
    .action(async () => {
      const say = (line = ''): boolean => process.stdout.write(`${line}\n`);
      say('Starting the AWS emulator (moto_server)…');
      const emulator = await startEmulator();
      try {
        const factory = new AwsClientFactory({ region: 'us-east-1', endpoint: emulator.endpoint, maxAttempts: 2 }, {});
        say(`Emulator at ${emulator.endpoint}`);

        // The member account, reached the way production reaches it: STS AssumeRole.
        const sts = factory.create(STSClient);
        const { Credentials } = await sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${MEMBER_ACCOUNT}:role/RiposteMemberRole`,
            RoleSessionName: 'riposte-demo',
            ExternalId: 'riposte-demo',
          }),
        );
        if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined) throw new Error('AssumeRole returned no credentials');
        const credentials = {
          accessKeyId: Credentials.AccessKeyId,
          secretAccessKey: Credentials.SecretAccessKey,
          ...(Credentials.SessionToken === undefined ? {} : { sessionToken: Credentials.SessionToken }),
        };
        const member = await factory.create(STSClient, { credentials }).send(new GetCallerIdentityCommand({}));
        say(`Assumed ${member.Arn}`);

        const iam = factory.create(IAMClient, { credentials });
        await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
        const { PasswordPolicy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
        say(`Member account ${MEMBER_ACCOUNT} password policy: minimum length ${PasswordPolicy?.MinimumPasswordLength}, symbols ${PasswordPolicy?.RequireSymbols ? 'required' : 'not required'}, reuse prevention ${PasswordPolicy?.PasswordReusePrevention ?? 'none'}`);
        say();

        const { playbooks, problems } = await loadPlaybooks(join(root, 'playbooks'));
        if (problems.length > 0) throw new PlaybookCompileError(problems);
        const matcher = new IndexedMatcher(playbooks);
        say(`Loaded ${playbooks.length} playbooks from playbooks/`);
        say();

        for (const name of ['securityhub-cis-password-policy-failed.json', 'guardduty-ec2-backdoor.json']) {
          const result = readEvent(await readFile(join(examples, name), 'utf8'), { origin: name });
          say(`examples/events/${name}:`);
          for (const finding of result.findings) {
            say(describeFinding(finding));
            const matches = await matcher.match(finding);
            if (matches.length === 0) say('  matched    no playbook');
            for (const match of matches) say(describeMatch(match));
          }
          say();
        }
        say('Next stages (remediation in the member account, verification, the run ledger) join this demo as they land.');
      } finally {
        await emulator.stop();
        say('Emulator stopped.');
      }
    });
}
