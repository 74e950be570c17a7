import { captureMetadata } from './ec2-capture-metadata.js';
import { detachInstanceProfile } from './ec2-detach-instance-profile.js';
import { enableTerminationProtection } from './ec2-enable-termination-protection.js';
import { isolateInstance } from './ec2-isolate.js';
import { restrictDefaultSecurityGroup } from './ec2-restrict-default-security-group.js';
import { revokeUnrestrictedIngress } from './ec2-revoke-unrestricted-ingress.js';
import { snapshotVolumes } from './ec2-snapshot-volumes.js';
import { updateFinding } from './finding-update.js';
import { revokeRoleSessions } from './iam-revoke-role-sessions.js';
import { setPasswordPolicy } from './iam-set-password-policy.js';
import { notify } from './notify.js';
import { ActionRegistry } from './registry.js';
import { runCommand } from './ssm-run-command.js';

export { ActionRegistry, defineAction } from './registry.js';
export { DuplicateActionError, UnknownActionError } from './errors.js';
export { ActionFailedError, ActionNotImplementedError, ActionParamsInvalidError, isRetryableError, planStep, rollbackStep, runStep, verifyStep } from './execute.js';
export type { StepAction, StepPhase } from './execute.js';
export { EvidenceBucketNotConfiguredError } from './evidence-store.js';
export { InstanceProfileConflictError } from './ec2-detach-instance-profile.js';
export { InstanceNotFoundError } from './ec2-instance.js';
export { UnmanagedSecurityGroupError } from './ec2-isolate.js';
export { NotDefaultSecurityGroupError } from './ec2-restrict-default-security-group.js';
export { SecurityGroupNotFoundError } from './ec2-security-group.js';
export { FindingUpdateError, RIPOSTE_COMMENT_MARKER, RIPOSTE_NOTE_AUTHOR } from './finding-update.js';
export { NotificationTopicMissingError } from './notify.js';
export { ActionTarget } from './types.js';
export { memberPermissions, memberRoleTemplate } from './member-role-template.js';
export type { MemberRoleTemplateOptions } from './member-role-template.js';
export type { ActionBehaviour, ActionContext, ActionOutcome, ActionPlan, HostingServices, PlannedChange, Verification } from './runtime.js';
export type { ActionDefinition, ActionPermissions } from './types.js';

/** Every action Riposte ships, in one list the registry and the tests share. */
export const BUILT_IN_ACTIONS = [
  setPasswordPolicy,
  isolateInstance,
  snapshotVolumes,
  captureMetadata,
  enableTerminationProtection,
  detachInstanceProfile,
  revokeRoleSessions,
  revokeUnrestrictedIngress,
  restrictDefaultSecurityGroup,
  runCommand,
  updateFinding,
  notify,
] as const;

/** A registry holding every built-in action. */
export function builtInActions(): ActionRegistry {
  return new ActionRegistry(BUILT_IN_ACTIONS);
}
