import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';

import { builtInActions, planStep, runStep, verifyStep } from '../actions/index.js';
import { AwsClientFactory, MemberClients, MemberCredentials, startEmulator } from '../aws/index.js';
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

        // The member account, reached the way production reaches it: STS AssumeRole, one session per account.
        const clients = new MemberClients(
          factory,
          new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-demo', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false }),
        );
        const target = { account: MEMBER_ACCOUNT, region: 'us-east-1', partition: 'aws' as const, correlationId: 'demo' };
        const member = await clients.create(STSClient, target).send(new GetCallerIdentityCommand({}));
        say(`Assumed ${member.Arn}`);

        const iam = clients.create(IAMClient, target);
        const describePolicy = async (): Promise<string> => {
          const { PasswordPolicy: policy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
          return `minimum length ${policy?.MinimumPasswordLength}, symbols ${policy?.RequireSymbols ? 'required' : 'not required'}, reuse prevention ${policy?.PasswordReusePrevention || 'none'}, max age ${policy?.MaxPasswordAge || 'none'}`;
        };
        await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
        say(`Member account ${MEMBER_ACCOUNT} password policy: ${await describePolicy()}`);
        say();

        const { playbooks, problems } = await loadPlaybooks(join(root, 'playbooks'));
        if (problems.length > 0) throw new PlaybookCompileError(problems);
        const matcher = new IndexedMatcher(playbooks);
        say(`Loaded ${playbooks.length} playbooks from playbooks/`);
        say();

        const registry = builtInActions();
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

        // Until the pipeline lands, the demo runs the CIS playbook's remediation step by hand:
        // plan (reads only), run, verify (reads back), the way the pipeline will.
        const [cisFinding] = readEvent(await readFile(join(examples, 'securityhub-cis-password-policy-failed.json'), 'utf8')).findings;
        const step = playbooks.find((compiled) => compiled.playbook.id === 'cis-password-policy')?.playbook.steps[0];
        if (cisFinding !== undefined && step !== undefined) {
          const action = { registry, action: step.action };
          const context = {
            clients,
            hosting: { factory },
            target: { ...target, correlationId: 'demo-cis' },
            finding: cisFinding,
            resource: cisFinding.resources[0] as (typeof cisFinding.resources)[number],
            runId: 'r-demo',
            playbookId: 'cis-password-policy',
          };
          say(`Remediating with ${step.action} in account ${MEMBER_ACCOUNT}:`);
          say(`  plan       ${(await planStep(action, context, step.params)).summary}`);
          say(`  run        ${(await runStep(action, context, step.params)).summary}`);
          const verification = await verifyStep(action, context, step.params);
          say(`  verify     ${verification.compliant ? 'COMPLIANT' : 'NOT COMPLIANT'}: ${verification.summary}`);
          say(`  again      ${(await runStep(action, context, step.params)).summary}`);
          say(`  read back  ${await describePolicy()}`);
          say();
        }
        say('Next stages (guards, the run ledger, finding updates and notifications per run) join this demo with the pipeline.');
      } finally {
        await emulator.stop();
        say('Emulator stopped.');
      }
    });
}
