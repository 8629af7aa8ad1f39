/**
 * A case's run that took its budget of actions refuses more while it finishes its sends (the workflow's
 * validator, FAILURE_TYPES.moving); the API tries the action again until the next run takes it.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { UNPROCESSED_UPDATE, toHttpError } from '../../api/errors';
import { whileMoving } from '../../api/service';
import { FAILURE_TYPES } from '../../workflows/messages';

const moving = () => new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type: FAILURE_TYPES.moving, message: 'The case is moving to a new run; try again', nonRetryable: true }));

test('an action refused while the run moves is tried again, backing off, until the next run takes it', async () => {
  const tries: number[] = [];
  const result = await whileMoving(Date.now() + 10_000, async () => {
    tries.push(Date.now());
    if (tries.length < 4) throw moving();
    return 'done';
  });
  expect(result).toBe('done');
  expect(tries).toHaveLength(4);
  const gaps = tries.slice(1).map((t, i) => t - tries[i]);
  expect(gaps[0]).toBeGreaterThanOrEqual(90);
  expect(gaps[2]).toBeGreaterThanOrEqual(gaps[0] * 3); // 100, 200, 400 ms
});

test('past its deadline the refusal goes to the caller as 503 with Retry-After; any other failure at once', async () => {
  const tries: number[] = [];
  const began = Date.now();
  const deadline = began + 2_500;
  const err = await whileMoving(deadline, async () => {
    tries.push(Date.now());
    throw moving();
  }).catch((e: unknown) => e);
  expect(tries.length).toBeGreaterThanOrEqual(2);
  expect(Date.now()).toBeLessThan(deadline); // it does not wait past the deadline to give up
  // No try starts so near the deadline that the deadline, not the refusal, would answer it.
  expect(deadline - tries.at(-1)!).toBeGreaterThanOrEqual(1_000);
  expect(toHttpError(err)).toMatchObject({ status: 503, code: 'temporal_unavailable', headers: { 'Retry-After': '1' } });

  let m = 0;
  const conflict = new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type: FAILURE_TYPES.conflict, message: 'closed', nonRetryable: true }));
  await expect(
    whileMoving(Date.now() + 10_000, async () => {
      m++;
      throw conflict;
    }),
  ).rejects.toBe(conflict);
  expect(m).toBe(1);
});

test('an action Temporal rejected as unprocessed by the worker (nothing applied) is tried again too, then 503 saying it was not applied', async () => {
  const unprocessed = () =>
    new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type: UNPROCESSED_UPDATE, message: "Workflow Update is rejected because it wasn't processed by worker.", nonRetryable: true }));
  let n = 0;
  expect(await whileMoving(Date.now() + 10_000, async () => (++n < 3 ? Promise.reject(unprocessed()) : 'done'))).toBe('done');
  expect(n).toBe(3);
  const err = await whileMoving(Date.now() + 1_500, () => Promise.reject(unprocessed())).catch((e: unknown) => e);
  expect(toHttpError(err)).toMatchObject({ status: 503, code: 'temporal_unavailable', message: expect.stringMatching(/not applied/), headers: { 'Retry-After': '1' } });
});
