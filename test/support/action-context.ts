import type { MetadataBearer, Pluggable } from '@smithy/types';

import { AwsClientFactory, MemberClients, MemberCredentials } from '../../src/aws/index.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { emulatorClientFactory } from './emulator.js';
import { fixture } from './fixtures.js';

/** Member-account clients on this worker's emulator, through AssumeRole, as production gets them; `plugins` added to every client (e.g. a call counter). */
export function memberClients(plugins: readonly Pluggable<object, MetadataBearer>[] = []): MemberClients {
  const emulator = emulatorClientFactory();
  const factory = plugins.length === 0 ? emulator : new AwsClientFactory(emulator.settings, { ...emulator.options, plugins: [...(emulator.options.plugins ?? []), ...plugins] });
  return new MemberClients(
    factory,
    new MemberCredentials(factory, { roleName: 'RiposteMemberRole', externalId: 'riposte-test', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false, hostingAccount: '123456789012' }),
  );
}

/** An action context for a finding from `fixtureName`, moved to `account` (the fixtures' member account 111122223333 is replaced everywhere, ARNs included). */
export function actionContext(fixtureName: string, account: string, clients = memberClients()): ActionContext {
  const event = JSON.parse(JSON.stringify(fixture(fixtureName)).replaceAll('111122223333', account)) as unknown;
  const finding = readEvent(event).findings[0] as Finding;
  return {
    clients,
    hosting: { factory: emulatorClientFactory(), evidenceBucket: 'riposte-evidence-test' },
    target: { account, region: finding.region, partition: finding.partition, correlationId: 'test-run' },
    finding,
    resource: finding.resources[0] as Finding['resources'][number],
    runId: 'r-test',
  };
}
