import { AsyncLocalStorage } from 'node:async_hooks';

import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, MetadataBearer, Pluggable } from '@smithy/types';

import { isReadOperation } from './read-operation.js';

/*
 * One answer per read until the run changes something.
 *
 * A run resolves its target, passes the guards, plans every step, then
 * starts changing things; until its first change, every step asks the member
 * account the same questions (the instance, its volumes, its interfaces),
 * and nothing the run does can change the answers. Within that window the
 * same read, on the same client with the same parameters, is sent once and
 * its answer shared: the guards, the plan and the first steps act on one
 * value, as AWS gave it, and a large playbook does not multiply its calls by
 * its steps. Steps that run side by side each keep the window open until
 * they change something themselves (`withStepReadMemo`), so isolation
 * started beside evidence capture acts on the plan's answers, and the
 * evidence records the state before the run's changes. From then on every
 * read goes to AWS again: a step waiting on a snapshot or a command sees it
 * progress. The verify stage opens a window of its own, after every change:
 * its checks share one reading of the state the changes left.
 */

interface Window {
  /** Set by this window's first change: from then on nothing is shared with it. */
  closed: boolean;
  readonly answers: Map<string, Promise<unknown>>;
  /** The run's window, for a step's own (`withStepReadMemo`): told of the step's change. */
  readonly run?: Window;
  /** On the run's window: a step beside others changed something (it closes when they all end). */
  changed?: boolean;
}

const windows = new AsyncLocalStorage<Window>();

/** Runs `work` as one run: its reads, until its first change, are each sent once. */
export function withRunReadMemo<T>(work: () => Promise<T>): Promise<T> {
  return windows.run({ closed: false, answers: new Map() }, work);
}

/**
 * Runs steps that a playbook runs side by side (`concurrent`), each in a
 * window of its own over the run's answers: until a step changes
 * something, its reads share the answers read before the group started, as
 * the steps were declared independent of each other; a step that changes
 * something reads for itself from then on, without closing its siblings'
 * windows. Once every step has ended, a change by any of them closes the
 * run's window, as a step run alone does. Outside a run it only runs the steps.
 */
export async function withStepReadMemo<T>(steps: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const run = windows.getStore();
  if (run === undefined || run.closed) return Promise.all(steps.map((step) => step()));
  try {
    return await Promise.all(steps.map((step) => windows.run({ closed: false, answers: run.answers, run }, step)));
  } finally {
    if (run.changed === true) {
      run.closed = true;
      run.answers.clear();
    }
  }
}

/** A change through `window`: it closes, and a step's window tells the run's. */
function close(window: Window): void {
  window.closed = true;
  if (window.run === undefined) window.answers.clear();
  else window.run.changed = true;
}

/** AWS's answers that a thing does not exist (IAM's NoSuchEntity, EC2's `….NotFound`, S3's NoSuchKey): the state, not a failure. */
const NOT_FOUND = /^(NoSuchEntity(Exception)?|NoSuchKey|NotFound|ResourceNotFoundException|[\w.]+\.NotFound)$/;
const isNotFound = (error: unknown): boolean => error instanceof Error && NOT_FOUND.test(error.name);

/** Stable text for a request's parameters: the same parameters in any key order are one read. */
function keyOf(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field !== null && typeof field === 'object' && !Array.isArray(field) && !(field instanceof Date) && !(field instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(field as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}

/**
 * The plugin for one member client (`client`: its service, account and
 * region, as the client cache names it). Outside a run it changes nothing.
 * Each caller gets its own copy of a shared answer, so a step that edits
 * what it read does not edit another's.
 *
 * `reads`: the operations whose answers are shared (all reads when absent);
 * other reads go to AWS, and any change still closes the window.
 */
export function runReadMemoPlugin(client: string, options: { readonly reads?: ReadonlySet<string> } = {}): Pluggable<object, MetadataBearer> {
  return {
    applyToStack(stack) {
      stack.add(
        <Output extends MetadataBearer>(next: InitializeHandler<object, Output>, context: HandlerExecutionContext) =>
          async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<Output>> => {
            const window = windows.getStore();
            if (window === undefined || window.closed || window.run?.closed === true) return next(args);
            const operation = context.commandName ?? '';
            if (!isReadOperation(operation)) {
              close(window);
              return next(args);
            }
            // Only answers that can be copied are shared: a read whose answer streams (S3's GetObject) goes to AWS each time.
            if (options.reads !== undefined && !options.reads.has(operation)) return next(args);
            const key = `${client} ${operation} ${keyOf(args.input)}`;
            let answer = window.answers.get(key) as Promise<InitializeHandlerOutput<Output>> | undefined;
            if (answer === undefined) {
              answer = next(args);
              window.answers.set(key, answer);
              // A failed read is not shared, the next caller asks again; but "there is no such thing" is an answer.
              answer.catch((error: unknown) => {
                if (!isNotFound(error)) window.answers.delete(key);
              });
            }
            const { output } = await answer;
            return { output: structuredClone(output), response: undefined };
          },
        { step: 'initialize', priority: 'high', name: 'riposteRunReadMemo' },
      );
    },
  };
}
