import { ActionRegistry, builtInActions, type ActionDefinition } from '../actions/index.js';
import type { CompiledPlaybook } from './types.js';

/**
 * The actions a library's steps use, as a registry of those alone (sorted by
 * name): what the member role must allow and the functions may call, so a
 * deployment grants no permission its playbooks do not need. `riposte roles`
 * and the stack (deploy/stack.ts) both derive their policies from it.
 *
 * @param registry where the names are looked up (default: the built-in actions).
 * @throws UnknownActionError when a step names an action the registry lacks (a compiled library never does).
 */
export function libraryActions(playbooks: readonly CompiledPlaybook[], registry: ActionRegistry = builtInActions()): ActionRegistry {
  const names = new Set(playbooks.flatMap((compiled) => compiled.playbook.steps.map((step) => step.action)));
  return new ActionRegistry([...names].sort().map((name): ActionDefinition => registry.get(name)));
}
