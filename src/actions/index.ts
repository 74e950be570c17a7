import { standbyInstance } from './autoscaling-standby-instance.js';
import { captureMetadata } from './ec2-capture-metadata.js';
import { detachInstanceProfile } from './ec2-detach-instance-profile.js';
import { enableTerminationProtection } from './ec2-enable-termination-protection.js';
import { isolateInstance } from './ec2-isolate.js';
import { restrictDefaultSecurityGroup } from './ec2-restrict-default-security-group.js';
import { revokeUnrestrictedIngress } from './ec2-revoke-unrestricted-ingress.js';
import { snapshotVolumes } from './ec2-snapshot-volumes.js';
import { deregisterInstance } from './elb-deregister-instance.js';
import { updateFinding } from './finding-update.js';
import { revokeRoleSessions } from './iam-revoke-role-sessions.js';
import { setPasswordPolicy } from './iam-set-password-policy.js';
import { notify } from './notify.js';
import { ActionRegistry } from './registry.js';
import { collectEvidence } from './ssm-collect-evidence.js';
import { runCommand } from './ssm-run-command.js';

export { ActionRegistry, defineAction } from './registry.js';
export { planStep, rollbackStep, runStep, verifyStep } from './execute.js';
export type { StepAction } from './execute.js';
export {
  ActionFailedError,
  ActionNotReversibleError,
  ActionParamsInvalidError,
  DuplicateActionError,
  EvidenceBucketNotConfiguredError,
  FindingUpdateError,
  InstanceNotFoundError,
  InstanceProfileConflictError,
  NotDefaultSecurityGroupError,
  NotificationTopicMissingError,
  QuarantineGroupPurposeError,
  ResourceTagsUnreadableError,
  SecurityGroupNotFoundError,
  SsmCommandFailedError,
  UnknownActionError,
  UnmanagedSecurityGroupError,
} from './errors.js';
export type { ResourceTagsUnreadableDetails } from './errors.js';
export { CollectionToolMissingError, InstanceNotManagedError, InstanceProfileInUseError } from './collection-errors.js';
// The Security Hub and SNS writes the `finding.update` and `notify` actions
// make, which the pipeline's record stage makes too.
export { isSecurityHubFinding, RIPOSTE_COMMENT_MARKER, RIPOSTE_NOTE_AUTHOR, riposteNoteText, SECURITY_HUB_NOTE_MAX, updateSecurityHubFinding } from './finding-update.js';
export type { SecurityHubFindingUpdate } from './finding-update.js';
export { publishToTopic, SNS_SUBJECT_MAX, snsSubject } from './notify.js';
export type { SnsNotification } from './notify.js';
// What the actions leave on resources, for whoever reads them back.
export { MANAGED_TAG, PREVIOUS_GROUPS_TAG, quarantineGroupNameOf } from './ec2-isolate.js';
export { EvidenceTag } from './ec2-snapshot-volumes.js';
export { REVOKE_POLICY_NAME } from './iam-revoke-role-sessions.js';
export { ActionTarget } from './types.js';
export type { ActionDefinition, ActionPermissions, StepPhase } from './types.js';
export { memberPermissions, memberRoleTemplate } from './member-role-template.js';
export type { MemberRoleTemplateOptions } from './member-role-template.js';
export { memberLiveView, readResourceTags, TAG_READ_PERMISSIONS, TAGGED_RESOURCE_TYPES, TARGET_READ_PERMISSIONS } from './resource-tags.js';
export type { LiveView } from './resource-tags.js';
export { targetResource } from './target.js';
export type {
  AccountTarget,
  InstanceFacts,
  InstanceProfileFacts,
  InstanceTarget,
  InterfaceFacts,
  ReportedTarget,
  ResolvedTarget,
  ResolvedTargetKind,
  ResourceTags,
  SecurityGroupFacts,
  SecurityGroupTarget,
} from './target.js';
export { stepOrderOf } from './runtime.js';
export type { ActionBehaviour, ActionContext, ActionOutcome, ActionPlan, HostingServices, NeighbourStep, PlannedChange, PrefetchContext, StepOrder, Verification } from './runtime.js';

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
  collectEvidence,
  standbyInstance,
  deregisterInstance,
  updateFinding,
  notify,
] as const;

/** A registry holding every built-in action. */
export function builtInActions(): ActionRegistry {
  return new ActionRegistry(BUILT_IN_ACTIONS);
}
