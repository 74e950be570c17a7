import { describe, expect, it } from 'vitest';

import { allWritesSettled } from '../../src/actions/evidence-store.js';

/*
 * ec2.capture-metadata writes its evidence objects at once. When one write
 * fails, the step must not end while the others are still in flight: a test
 * that then turned IAM enforcement off and listed the bucket found objects
 * written after the step had failed.
 */

/** A write that settles when told to, and says whether it has. */
function write<T>(): { promise: Promise<T>; settle: (value: T) => void; fail: (error: Error) => void; settled: () => boolean } {
  let settled = false;
  let settle!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    settle = (value) => {
      settled = true;
      resolve(value);
    };
    fail = (error) => {
      settled = true;
      reject(error);
    };
  });
  return { promise, settle, fail, settled: () => settled };
}

describe('allWritesSettled', () => {
  it('answers every result, in order, when every write succeeds', async () => {
    await expect(allWritesSettled([Promise.resolve('a'), Promise.resolve('b')])).resolves.toEqual(['a', 'b']);
  });

  it('fails with the first failure only once every other write has settled (Promise.all would fail while two were in flight)', async () => {
    const writes = [write<string>(), write<string>(), write<string>()];
    const all = allWritesSettled(writes.map((one) => one.promise));
    let ended = false;
    void all.catch(() => (ended = true));

    writes[1]?.fail(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);

    writes[0]?.settle('a');
    writes[2]?.fail(new Error('second failure'));
    await expect(all).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(writes.every((one) => one.settled())).toBe(true);
  });
});
