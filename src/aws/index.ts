export { AwsClientFactory } from './client-factory.js';
export type { AwsClientFactoryOptions, AwsCredentials, BaseClientConfig, ClientScope, SdkClient, SdkClientConstructor } from './client-factory.js';
export { AssumeRoleDeniedError, AssumeRoleFailedError, InvalidMemberTargetError } from './errors.js';
export { MemberClients } from './member-clients.js';
export type { MemberClientsOptions } from './member-clients.js';
export { isReadOperation } from './read-operation.js';
export { runReadMemoPlugin, withRunReadMemo, withStepReadMemo } from './run-read-memo.js';
export { checkMemberTarget, MemberCredentials, memberRoleArn, sessionNameFor } from './member-credentials.js';
export type { MemberCredentialsOptions, MemberRoleSettings, MemberTarget } from './member-credentials.js';
