export { GUARD_PERMISSIONS, TAGGED_RESOURCE_TYPES, readResourceTags } from './resource-tags.js';
export type { ResourceTags } from './resource-tags.js';
export { EXEMPTION_TAGS, accountExemption, resourceExemption } from './exemption.js';
export type { ExemptionDecision } from './exemption.js';
export { ResourceTagsUnreadableError } from './errors.js';
export type { ResourceTagsUnreadableDetails } from './errors.js';
