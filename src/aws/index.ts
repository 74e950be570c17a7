export { AwsClientFactory } from './client-factory.js';
export type { AwsClientFactoryOptions, AwsCredentials, BaseClientConfig, ClientScope, SdkClient, SdkClientConstructor } from './client-factory.js';
export { AssumeRoleDeniedError, AssumeRoleFailedError } from './errors.js';
export { MemberClients } from './member-clients.js';
export type { MemberClientsOptions } from './member-clients.js';
export { MemberCredentials, memberRoleArn, sessionNameFor } from './member-credentials.js';
export type { MemberRoleSettings, MemberTarget } from './member-credentials.js';
