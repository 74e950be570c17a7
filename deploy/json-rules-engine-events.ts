/**
 * What the deployed bundles give json-rules-engine for eventemitter2
 * (deploy/esbuild-plugins.cjs, rulesEngineEventsOnNode).
 *
 * json-rules-engine's Engine and Rule extend eventemitter2 (19 KB of every
 * pipeline function: wildcards, namespaces, `onAny`, listener TTLs,
 * `waitFor`, `listenTo`…) and use two of its methods: `on`, for a rule's
 * `onSuccess`/`onFailure` callbacks, and `emitAsync`, to tell listeners of
 * each rule's outcome and wait for them. They build the emitter without
 * options (no wildcards, no `onAny`). Node's own EventEmitter has `on`; this
 * adds `emitAsync` as eventemitter2 writes it for an emitter so built: each
 * listener of the event called in turn on the emitter (with `event` set to
 * the event's name, as eventemitter2 sets it), and a promise of all their
 * results; an `error` event with no listener rejects with its argument when
 * that is an Error, else with eventemitter2's message.
 *
 * Riposte adds no listener at all (a compiled rule is JSON: no callbacks), so
 * in the functions every `emitAsync` finds none and resolves; the engine's
 * results are unchanged (test/deploy/json-rules-engine-events.test.ts runs
 * json-rules-engine on both, listeners included).
 */
import { EventEmitter } from 'node:events';

/** An emitter as json-rules-engine uses eventemitter2's. */
export interface AsyncEventEmitter extends EventEmitter {
  /** The event whose listener is being called (eventemitter2 sets it). */
  event?: string | symbol;
  emitAsync(type: string | symbol, ...args: unknown[]): Promise<unknown[]>;
}

/**
 * A constructor that can be called as a function: json-rules-engine's
 * classes are ES5 (Babel), and call their parent's constructor on the
 * instance under construction, which a `class` refuses.
 */
function EventEmitter2(this: EventEmitter): void {
  Reflect.apply(EventEmitter, this, []);
}

EventEmitter2.prototype = Object.create(EventEmitter.prototype, {
  constructor: { value: EventEmitter2, writable: true, enumerable: false, configurable: true },
}) as AsyncEventEmitter;

function emitAsync(this: AsyncEventEmitter, type: string | symbol, ...args: unknown[]): Promise<unknown[]> {
  const listeners = this.listeners(type);
  if (listeners.length === 0 && type === 'error') {
    // eventemitter2's unhandled 'error' event: rejected with its argument when an Error, else with this string.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the reason eventemitter2 gives, kept as it is
    return Promise.reject(args[0] instanceof Error ? args[0] : "Uncaught, unspecified 'error' event.");
  }
  const results = listeners.map((listener) => {
    this.event = type;
    return Reflect.apply(listener, this, args) as unknown;
  });
  return Promise.all(results);
}

Object.defineProperty(EventEmitter2.prototype, 'emitAsync', { value: emitAsync, writable: true, enumerable: true, configurable: true });

export { EventEmitter2 };
export default EventEmitter2;
