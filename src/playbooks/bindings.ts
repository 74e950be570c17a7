import { isFactCondition, type Condition, type FactCondition } from './conditions.js';

/**
 * A condition the compiler adds to a playbook's match that its author did
 * not write, and why. `riposte validate --verbose` prints them: a playbook
 * acts on less than its `match` says, never more.
 */
export interface ImplicitBinding {
  /** The condition added. */
  readonly condition: FactCondition;
  /** The facts of the conditions it guards (`control.id`…), or `match` when it guards the whole match. */
  readonly guards: readonly string[];
  /** Added only to the alternatives (`any`) that name no product, not to the whole match. */
  readonly partial: boolean;
  readonly reason: string;
}

/** Security Hub's own product: the only one whose control ids Riposte takes without a playbook naming the product. */
export const SECURITY_HUB_PRODUCT = 'securityhub';
/** The owners a playbook acts for unless it names a product (`ProductRef.owner`). */
export const TRUSTED_OWNERS: readonly string[] = ['aws', 'riposte'];

const CONTROL_FACTS: ReadonlySet<string> = new Set(['control.id', 'control.standards', 'control.cisRules']);
/** Operators that say what a fact is (rather than what it is not, or that it exists): what "naming" a product means. */
const NAMING_OPERATORS: ReadonlySet<string> = new Set(['equal', 'in', 'contains', 'containsAny', 'prefix']);

const securityHubOnly: FactCondition = { fact: 'product.id', operator: 'equal', value: SECURITY_HUB_PRODUCT };
const trustedOwnersOnly: FactCondition = { fact: 'product.owner', operator: 'in', value: TRUSTED_OWNERS };

const names = (condition: Condition, facts: ReadonlySet<string>): boolean => isFactCondition(condition) && facts.has(condition.fact) && NAMING_OPERATORS.has(condition.operator);

/** Whether every way `condition` can hold names one of `facts` (a `not` never counts: it says what a product is not). */
function requires(condition: Condition, facts: ReadonlySet<string>): boolean {
  if (isFactCondition(condition)) return names(condition, facts);
  if ('all' in condition) return condition.all.some((child) => requires(child, facts));
  if ('any' in condition) return condition.any.length > 0 && condition.any.every((child) => requires(child, facts));
  return false;
}

/** Whether some way `condition` can hold names one of `facts`. */
function mentions(condition: Condition, facts: ReadonlySet<string>): boolean {
  if (isFactCondition(condition)) return names(condition, facts);
  if ('all' in condition) return condition.all.some((child) => mentions(child, facts));
  if ('any' in condition) return condition.any.some((child) => mentions(child, facts));
  return false;
}

const PRODUCT_ID: ReadonlySet<string> = new Set(['product.id']);
const PRODUCT: ReadonlySet<string> = new Set(['product.id', 'product.owner']);

/**
 * (a) Every condition on a control (`control.*`, outside a `not`) holds only
 * for Security Hub's own findings, unless the conjunction it is in names
 * `product.id`. A control id is a claim any product can make (and a member
 * account can import findings into its own default product); Security Hub
 * only vouches for its own.
 */
function bindControls(condition: Condition, productNamed: boolean, bound: Set<string>): Condition {
  if (isFactCondition(condition)) {
    if (productNamed || !CONTROL_FACTS.has(condition.fact)) return condition;
    bound.add(condition.fact);
    return { all: [condition, securityHubOnly] };
  }
  if ('all' in condition) {
    const named = productNamed || condition.all.some((child) => requires(child, PRODUCT_ID));
    return { all: condition.all.map((child) => bindControls(child, named, bound)) };
  }
  if ('any' in condition) return { any: condition.any.map((child) => bindControls(child, productNamed, bound)) };
  // Under `not`, a control a third party claims can only keep a finding out.
  return condition;
}

/**
 * (b) Wherever the match names neither `product.id` nor `product.owner`, it
 * holds only for AWS's and Riposte's own findings: a custom or third-party
 * product drives a playbook only where the playbook names it. Alternatives
 * of an `any` are bound one by one, so naming a partner's product in one
 * alternative leaves the others bound. (Where two `any` in one conjunction
 * both name products, the first is bound: the error is on the side of
 * matching less.)
 */
function bindOwners(condition: Condition, state: { partial: boolean }): Condition {
  if (requires(condition, PRODUCT)) return condition;
  if (!isFactCondition(condition) && 'any' in condition) {
    state.partial = true;
    return { any: condition.any.map((child) => bindOwners(child, state)) };
  }
  if (!isFactCondition(condition) && 'all' in condition) {
    const mixed = condition.all.findIndex((child) => mentions(child, PRODUCT));
    if (mixed >= 0) return { all: condition.all.map((child, index) => (index === mixed ? bindOwners(child, state) : child)) };
    return { all: [...condition.all, trustedOwnersOnly] };
  }
  return { all: [condition, trustedOwnersOnly] };
}

/**
 * The match as Riposte runs it: the author's conditions with the implicit
 * bindings to trusted products, and what was added and why.
 */
export function bindToTrustedProducts(match: Condition): { condition: Condition; bindings: ImplicitBinding[] } {
  const bindings: ImplicitBinding[] = [];
  const controls = new Set<string>();
  let condition = bindControls(match, false, controls);
  if (controls.size > 0) {
    bindings.push({
      condition: securityHubOnly,
      guards: [...controls].sort(),
      partial: false,
      reason:
        'control ids are taken from Security Hub’s own findings only: any product (an account’s own default product included) can report a control id. Name product.id next to the control to act on another product’s findings',
    });
  }
  if (!requires(condition, PRODUCT)) {
    const state = { partial: false };
    condition = bindOwners(condition, state);
    bindings.push({
      condition: trustedOwnersOnly,
      guards: ['match'],
      partial: state.partial,
      reason: `only findings AWS services and Riposte are proven to have made drive this playbook${
        state.partial ? ' (in the alternatives that name no product)' : ''
      }: a custom or third-party product drives it only where product.id or product.owner names it`,
    });
  }
  return { condition, bindings };
}

/** One line for `riposte validate --verbose`: `product.owner in [aws, riposte] (match): only findings…`. */
export function formatBinding(binding: ImplicitBinding): string {
  const { fact, operator, value } = binding.condition;
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  return `${fact} ${operator === 'equal' ? '=' : operator} ${shown}, added to ${binding.guards.join(', ')}: ${binding.reason}`;
}
