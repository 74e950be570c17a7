import { nearest } from '../suggest.js';
import { DuplicateActionError, UnknownActionError } from './errors.js';
import type { ActionDefinition } from './types.js';

/** Names to actions. Playbook steps are checked against it at compile time. */
export class ActionRegistry {
  readonly #actions = new Map<string, ActionDefinition>();

  constructor(actions: Iterable<ActionDefinition> = []) {
    for (const action of actions) this.register(action);
  }

  register(action: ActionDefinition): this {
    if (this.#actions.has(action.name)) throw new DuplicateActionError(action.name);
    this.#actions.set(action.name, action);
    return this;
  }

  has(name: string): boolean {
    return this.#actions.has(name);
  }

  /** @throws UnknownActionError listing the known names and the nearest one. */
  get(name: string): ActionDefinition {
    const action = this.#actions.get(name);
    if (action === undefined) throw new UnknownActionError(name, this.names(), this.suggest(name));
    return action;
  }

  find(name: string): ActionDefinition | undefined {
    return this.#actions.get(name);
  }

  suggest(name: string): string | undefined {
    return nearest(name, this.#actions.keys());
  }

  names(): string[] {
    return [...this.#actions.keys()].sort();
  }

  all(): ActionDefinition[] {
    return this.names().map((name) => this.#actions.get(name) as ActionDefinition);
  }
}

/** Identity helper that keeps each action's parameter type. */
export function defineAction<Params extends ActionDefinition['params'], Undo = unknown>(action: ActionDefinition<Params, Undo>): ActionDefinition<Params, Undo> {
  return action;
}
