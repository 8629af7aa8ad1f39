import { Context } from '@temporalio/activity';
import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { DeliverInput, DeliveryResult } from '../../activities/types';
import { withStepTries } from '../../activities';
import { DEFAULT_POLICY, RULES_VERSION, caseSummary, workflowIdFor, type CaseView } from '../../playbook';
import { escalationWorkflow } from '../../workflows';
import { getCaseQuery } from '../../workflows/messages';
import { caseInput, uniqueId } from '../helpers/fixtures';
import { devServerSuite, recordingActivities } from '../helpers/workflow-harness';

/**
 * A case acts on its clock only in a workflow task that history gives a cause: its timer fired, or an
 * action came. A local activity's result is no such cause: the worker can hand it to the workflow in a
 * later workflow task than the one whose history records it (it answered a query meanwhile, and asked
 * the server for a new task to deliver the result in), so on replay the workflow sees it earlier, at
 * an earlier time, and a decision it took on the clock there has no cause in the history: a case of the
 * Monday bench stuck on "[TMPRL1100] Nondeterminism error" that way
 * (test/histories/found/cluster-monday-nondeterminism.json).
 *
 * That race cannot be forced from outside. The same late hand-over can, through the task's heartbeat: a
 * local activity that outlives 80% of the task's timeout has the worker complete the task and hand the
 * result over in the next one, at a later workflow time. Fails against rules 7's catch-up. Here the deadline's warning is held in the step's local try (4.8 s, below
 * its 5 s bound) while the task's timeout is 4 s: the result arrives in the task started at 3.2 s, after
 * the deadline (2 s after the warning), before the deadline's timer fires (started with the first task's
 * completion). A real dev server, a real worker.
 */
const suite = devServerSuite();

type Event = temporal.api.history.v1.IHistoryEvent;
const HOLD_MS = 4_800;

/** The events that arrived for the workflow task in which event `i` was recorded: those since the previous task completed. */
function causesOf(events: Event[], i: number): Event[] {
  let started = i;
  while (started > 0 && !events[started].workflowTaskStartedEventAttributes) started--;
  let before = started - 1;
  while (before > 0 && !events[before].workflowTaskCompletedEventAttributes) before--;
  return events.slice(before + 1, started).filter((e) => !e.workflowTaskScheduledEventAttributes);
}

/** The workflow task (its WorkflowTaskStarted index) in which event `i` was recorded. */
function taskOf(events: Event[], i: number): number {
  let started = i;
  while (started > 0 && !events[started].workflowTaskStartedEventAttributes) started--;
  return started;
}

test('a breach is recorded in the workflow task its deadline\'s timer fired in, not in one a late local activity result woke', async () => {
  const { activities: base } = recordingActivities();
  const held: string[] = [];
  const activities = {
    ...base,
    sendEmail: async (i: DeliverInput): Promise<DeliveryResult> => {
      if (i.message.kind === 'deadline_warning' && Context.current().info.isLocal) {
        held.push(i.message.id);
        await new Promise((r) => setTimeout(r, HOLD_MS));
      }
      return base.sendEmail(i);
    },
  };
  const taskQueue = uniqueId('tq');
  const caseId = uniqueId();
  const { env, code: workflowBundle } = suite;
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle, activities: withStepTries(activities) });
  await worker.runUntil(async () => {
    const input = caseInput({ severity: 'high' });
    const handle = await env.client.workflow.start(escalationWorkflow, {
      taskQueue,
      workflowId: workflowIdFor(caseId),
      workflowTaskTimeout: '4s',
      args: [{ caseId, input, policy: { ...DEFAULT_POLICY, acknowledgeWithin: '4s', warnBefore: '2s' }, rulesVersion: RULES_VERSION }],
      staticSummary: caseSummary(input),
    });
    try {
      const end = Date.now() + 60_000;
      let view: CaseView;
      for (;;) {
        view = await handle.query(getCaseQuery);
        if (view.breaches.some((b) => b.kind === 'acknowledge') && view.messages.every((m) => m.status !== 'pending')) break;
        if (Date.now() > end) throw new Error(`no acknowledge breach within 60 s: ${JSON.stringify(view.breaches)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(held).toHaveLength(1);
      const events = (await handle.fetchHistory()).events ?? [];
      const name = (e: Event) => Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?';
      const at = (e: Event) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
      const shown = events.map((e, i) => `${i}:${name(e).replace('EventAttributes', '')}@${at(e) - at(events[0])}`).join(' ');

      // What the test sets up: the warning's result was recorded in a later workflow task than the one
      // that started the deadline's timer (the worker's heartbeat task came between).
      const deadlineTimer = events.findIndex((e, i) => e.timerStartedEventAttributes && events.slice(0, i).some((x) => x.timerFiredEventAttributes));
      const warningMarker = events.findIndex((e, i) => i > deadlineTimer && e.markerRecordedEventAttributes);
      expect({ deadlineTimer, warningMarker, history: shown }).toEqual({ deadlineTimer: expect.any(Number), warningMarker: expect.any(Number), history: shown });
      expect(deadlineTimer).toBeGreaterThan(0);
      expect(taskOf(events, warningMarker)).toBeGreaterThan(taskOf(events, deadlineTimer));

      // The breach: the first upsert that says so, and what its workflow task was started by.
      const breached = (e: Event) => {
        const field = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.EscalationBreached;
        return !!field?.data && Buffer.from(field.data).toString() === 'true';
      };
      const breach = events.findIndex(breached);
      expect(breach).toBeGreaterThan(0);
      const causes = causesOf(events, breach).map(name);
      expect({ causes, history: shown }).toEqual({ causes: expect.arrayContaining(['timerFiredEventAttributes']), history: shown });
      // No timer was cancelled after its deadline had come without firing.
      expect(events.filter((e) => e.timerCanceledEventAttributes).map((e) => e.timerCanceledEventAttributes?.timerId)).not.toContain(events[deadlineTimer].timerStartedEventAttributes?.timerId);

      // And the history replays.
      await Worker.runReplayHistory({ workflowBundle }, { events } as temporal.api.history.v1.IHistory);
    } finally {
      await handle.terminate('test finished').catch(() => undefined);
    }
  });
}, 120_000);
