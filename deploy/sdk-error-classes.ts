/**
 * The SDK clients' modelled error classes, as the deployed bundles build them
 * (deploy/esbuild-plugins.cjs, sdkErrorClassesCompact).
 *
 * Each client's `models/errors.js` writes every error of its service out as a
 * class of the same twelve lines (SSM: 140 of them, 40 KB minified), and its
 * schema module registers every one, so a bundle keeps them all whichever
 * commands it sends. The functions' build has each client's errors module
 * make its classes here instead, one call each; what a call returns behaves
 * as the class it replaces (test/deploy/sdk-error-classes.test.ts builds
 * every class of the installed clients both ways and compares them):
 * - it extends the client's service exception, and its `name` is the
 *   error's (the SDK's `instanceof` compares that name across copies);
 * - `shapeId` is static and its own, when the SDK gives one;
 * - an instance is built as the class builds it: the service exception's
 *   constructor given `{ name, $fault, ...options }`, then `name`,
 *   `$fault` and each member defined in that order (class fields: own,
 *   writable, enumerable), the prototype set, and each member read from the
 *   options.
 */

/** A client's service exception class, as its errors extend it. */
type ServiceExceptionClass = new (options: Record<string, unknown>) => Error;

/** One of the client's errors: its class, given its name, fault and members. */
export type ErrorClassMaker = (name: string, $fault: string, ...members: string[]) => ServiceExceptionClass;

/** A class field's definition: an own data property, writable, enumerable and configurable. */
const defineField = (target: object, key: string, value: unknown): void => {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
};

/**
 * The maker of one client's error classes: each extends `Base`, and has the
 * static `shapeId` `${namespace}${name}` when a namespace is given (the
 * clients that write none give no namespace).
 */
export function sdkErrorClasses(Base: ServiceExceptionClass, namespace?: string): ErrorClassMaker {
  return (name, $fault, ...members) => {
    const ModelledError = class extends Base {
      constructor(options: Record<string, unknown>) {
        super({ name, $fault, ...options });
        defineField(this, 'name', name);
        defineField(this, '$fault', $fault);
        for (const member of members) defineField(this, member, undefined);
        Object.setPrototypeOf(this, ModelledError.prototype);
        for (const member of members) (this as Record<string, unknown>)[member] = options[member];
      }
    };
    // A class's own name, as `class Name` declares it: read-only, not enumerable.
    Object.defineProperty(ModelledError, 'name', { value: name, writable: false, enumerable: false, configurable: true });
    if (namespace !== undefined) defineField(ModelledError, 'shapeId', `${namespace}${name}`);
    return ModelledError;
  };
}
