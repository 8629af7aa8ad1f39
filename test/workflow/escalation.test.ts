import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { allDelivered, caseWhen, recordingActivities, runCase, timeSkippingSuite, until, type Handle } from '../helpers/workflow-harness';
import { caseInput } from '../helpers/fixtures';
import { ACTION_UPDATES, getCaseQuery, FAILURE_TYPES } from '../../workflows/messages';
import type { DeliverInput } from '../../activities/types';

const t = timeSkippingSuite();

/** The time-skipping server's clock, as the workflow sees it. */
const serverNow = async () => Number(await t.env.currentTimeMs());
const hoursFromServerNow = async (h: number) => new Date((await serverNow()) + h * 3_600_000).toISOString();
const customerTemplates = (sent: DeliverInput[]) => sent.filter((i) => i.message.audience === 'customer').map((i) => i.message.template);

async function expectRefused(p: Promise<unknown>, type: string, message?: RegExp) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(type);
  if (message) expect((cause as ApplicationFailure).message).toMatch(message);
}

test('a whole case over more than 30 days: every stage, the automatic follow-up, recovery and the renewal outcome', async () => {
  const { activities, sent } = recordingActivities();
  const customer = { ...caseInput().customer, nextQbrDate: await hoursFromServerNow(24 * 40), renewalDate: await hoursFromServerNow(24 * 45) };
  await runCase(t.env, t.code, { input: caseInput({ customer }), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam', nextUpdateAt: await hoursFromServerNow(0.75) }] });
    await h.executeUpdate(ACTION_UPDATES.note, { args: [{ text: 'Sync worker OOM on large files', kind: 'root_cause' }] });
    await t.env.sleep('30m');
    const upd = await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'Large files crash the sync worker', nextUpdateAt: await hoursFromServerNow(2) }] });
    expect(upd.stage).toBe('communicate');
    await t.env.sleep('1h');
    await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'Memory limit', fix: 'streamed uploads', prevention: 'load tests on 5GB files' }] });
    const confirmed = await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true, by: 'customer' }] });
    expect(confirmed.stage).toBe('follow_up');

    await t.env.sleep('25h'); // past followUpAfter: the follow-up email goes out by itself
    await caseWhen(h, (x) => x.stage === 'recovery' && allDelivered(x), 'recovery');
    expect(customerTemplates(sent)).toEqual(['acknowledgement', 'progress_update', 'resolution', 'follow_up']);

    await h.executeUpdate(ACTION_UPDATES.csat, { args: [{ score: 9, comment: 'Great recovery', by: 'customer' }] });
    await t.env.sleep('3d');
    await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'recovery_call', notes: 'Called Dana: stable' }] });
    await t.env.sleep('20d');
    await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'health_check', notes: 'No lingering issues' }] });
    await t.env.sleep('15d'); // the QBR reminder fires 7 days before the QBR
    await caseWhen(h, (x) => x.messages.some((m) => m.kind === 'deadline_warning') && allDelivered(x), 'QBR reminder');
    await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'qbr_review', notes: 'Referenced at the QBR, showed prevention' }] });
    expect((await h.query(getCaseQuery)).stage).toBe('recovery'); // the renewal is still ahead
    await h.executeUpdate(ACTION_UPDATES.outcome, { args: [{ churned: false, note: 'Renewed' }] });

    const final = await h.result();
    expect(final.stage).toBe('closed');
    expect(final.breaches).toEqual([]);
    expect(Date.parse(final.closedAt!) - Date.parse(final.openedAt)).toBeGreaterThan(30 * 86_400_000);
    expect(final.tasks.every((t) => t.doneAt)).toBe(true);
    expect(final.csat).toMatchObject({ score: 9 });
    expect(final.messages.every((m) => m.status === 'sent')).toBe(true);
    const { events } = await h.fetchHistory();
    console.log(`full case without extra updates: ${events?.length} history events`);
  });
});

test('a critical case nobody acknowledges: warning, breach to the CSM manager and support lead, bounded reminders, 24h escalation', async () => {
  const { activities, sent } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'critical' }), activities }, async (h) => {
    await t.env.sleep('50m');
    let c = await caseWhen(h, (x) => x.messages.some((m) => m.kind === 'deadline_warning') && allDelivered(x), 'warning');
    expect(c.breaches).toEqual([]);
    await t.env.sleep('15m');
    c = await caseWhen(h, (x) => x.breaches.length === 2 && allDelivered(x), 'breach');
    expect(c.breaches.map((b) => b.kind)).toEqual(['acknowledge', 'respond']);
    const breach = sent.find((i) => i.message.kind === 'breach' && i.message.channel === 'email')!;
    expect(breach.message.to).toEqual(['csm', 'csmManager', 'supportLead']);
    await t.env.sleep('2d');
    c = await caseWhen(h, (x) => x.internalEscalations.some((e) => e.trigger === 'unresolved') && allDelivered(x), '24h escalation');
    expect(c.internalEscalations.find((e) => e.trigger === 'unresolved')!.to).toEqual(['csmManager']);
    expect(c.messages.filter((m) => m.kind === 'reminder' && m.channel === 'email')).toHaveLength(3);
    expect(c.stage).toBe('acknowledge');
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'duplicate of another case', by: 'admin' }] });
    expect((await h.result()).status).toBe('closed');
  });
});

test('a missed promised update is a breach; "not fixed" reopens to communicate; a severity change mid-case recomputes deadlines', async () => {
  const { activities, sent } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'medium' }), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
    let c = await h.query(getCaseQuery);
    expect(Date.parse(c.deadlines.respond!) - Date.parse(c.openedAt)).toBe(24 * 3_600_000);
    const raised = await h.executeUpdate(ACTION_UPDATES.severity, { args: [{ severity: 'high', reason: 'Workaround stopped working' }] });
    expect(Date.parse(raised.deadlines.respond!) - Date.parse(c.openedAt)).toBe(4 * 3_600_000);
    await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'Found the failing job', nextUpdateAt: await hoursFromServerNow(2) }] });
    await t.env.sleep('3h');
    c = await caseWhen(h, (x) => x.breaches.length === 1 && allDelivered(x), 'missed update');
    expect(c.breaches[0].kind).toBe('next_update');
    await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
    const reopened = await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: false, comment: 'Still broken in EU' }] });
    expect(reopened.stage).toBe('communicate');
    expect((await h.query(getCaseQuery)).resolvedAt).toBeNull();
    await caseWhen(h, allDelivered, 'reopen alerts');
    expect(sent.filter((i) => i.message.kind === 'reopened').map((i) => i.message.to)).toEqual([
      ['csm', 'support'],
      ['csm', 'support'],
    ]);
    await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'EU region had a stale config', nextUpdateAt: await hoursFromServerNow(4) }] });
    await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'stale config', fix: 'redeployed EU', prevention: 'config drift alarm' }] });
    expect((await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true }] })).stage).toBe('follow_up');
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'test done' }] });
    await h.result();
  });
});

test('missed recovery steps — personal call, health check, QBR mention — are breaches that reach the CSM manager', async () => {
  const { activities, sent } = recordingActivities();
  const customer = { ...caseInput().customer, nextQbrDate: await hoursFromServerNow(24 * 20) };
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high', customer }), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
    await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
    await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true }] });
    await t.env.sleep('31d');
    const c = await caseWhen(h, (x) => x.breaches.length === 3 && allDelivered(x), 'three recovery breaches');
    expect(c.breaches.map((b) => b.kind)).toEqual(['recovery_call', 'qbr_review', 'health_check']);
    expect(c.stage).toBe('recovery'); // the follow-up went out by itself
    const breachMails = sent.filter((i) => i.message.kind === 'breach' && i.message.channel === 'email');
    expect(breachMails.map((i) => i.message.to)).toEqual([
      ['csm', 'csmManager'],
      ['csm', 'csmManager'],
      ['csm', 'csmManager'],
    ]);
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'done' }] });
    await h.result();
  });
});

test("each timer's summary names the deadline it guards, also when a new deadline falls at the same moment", async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'critical' }), activities }, async (h) => {
    const summaries = async () =>
      (await h.fetchHistory()).events!
        .filter((e) => e.timerStartedEventAttributes)
        .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString('utf8')) as string);
    await t.env.sleep('10m');
    expect(await summaries()).toEqual(['warn before acknowledge the customer']);
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] }); // the respond deadline is due at the same moment
    await caseWhen(h, allDelivered, 'acknowledgement sent');
    expect((await summaries()).at(-1)).toBe('warn before first progress update');
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'done' }] });
  });
});

test('actions the stage does not allow are refused by the validators and leave no trace in the history', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput(), activities }, async (h) => {
    await expectRefused(h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] }), FAILURE_TYPES.conflict, /stage "acknowledge"/);
    await expectRefused(h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'health_check', notes: 'n' }] }), FAILURE_TYPES.conflict);
    await expectRefused(h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ note: "I'll look into it" }] }), FAILURE_TYPES.lint, /too vague/);
    await expectRefused(h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: '2000-01-01T00:00:00Z' }] }), FAILURE_TYPES.invalid);
    const events = (await h.fetchHistory()).events!;
    expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(0);
    expect((await h.query(getCaseQuery)).timeline.map((e) => e.type)).toEqual(['opened']);
    const ack = await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ note: 'Sorry about this.' }] });
    expect(ack.stage).toBe('investigate');
    const upd = await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: 'Apologies again, we found it', nextUpdateAt: await hoursFromServerNow(1) }] });
    expect(upd.warnings.map((w) => w.code)).toEqual(['repeated_apology']);
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'done' }] });
    await h.result();
  });
});

test('continue-as-new carries the whole case into the next run', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), activities, historyLimit: 40 }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
    for (let i = 0; i < 4; i++) {
      await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: `finding ${i}`, nextUpdateAt: await hoursFromServerNow(3) }] });
      await t.env.sleep('1h');
    }
    await caseWhen(h, (x) => x.updates === 4 && allDelivered(x), 'updates');
    // The last step's state may be read from the first run just before it continues as new: wait for the
    // new run, then read the case from it.
    const desc = await until(() => h.describe(), (d) => d.runId !== h.firstExecutionRunId, 'the case continued as new');
    expect(desc.runId).not.toBe(h.firstExecutionRunId);
    const c = await caseWhen(h, (x) => x.updates === 4 && allDelivered(x), 'updates in the new run');
    expect(c.timeline.filter((e) => e.type === 'update')).toHaveLength(4);
    expect(c.stage).toBe('communicate');
    expect(c.acknowledgedAt).not.toBeNull();
    // the timers go on in the new run
    await t.env.sleep('4h');
    const late = await caseWhen(h, (x) => x.breaches.length === 1, 'breach after continue-as-new');
    expect(late.breaches[0].kind).toBe('next_update');
    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'done' }] });
    expect((await h.result()).updates).toBe(4);
  });
});

test('history of a typical full case with ten progress updates stays small', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), activities }, async (h) => {
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{}] });
    for (let i = 0; i < 10; i++) {
      await h.executeUpdate(ACTION_UPDATES.update, { args: [{ known: `finding ${i}`, nextUpdateAt: await hoursFromServerNow(2) }] });
      await t.env.sleep('1h');
    }
    await h.executeUpdate(ACTION_UPDATES.resolve, { args: [{ rootCause: 'a', fix: 'b', prevention: 'c' }] });
    await h.executeUpdate(ACTION_UPDATES.confirmation, { args: [{ resolved: true }] });
    await t.env.sleep('2d');
    await h.executeUpdate(ACTION_UPDATES.csat, { args: [{ score: 8 }] });
    await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'recovery_call', notes: 'ok' }] });
    await t.env.sleep('10d');
    await h.executeUpdate(ACTION_UPDATES.complete_task, { args: [{ kind: 'health_check', notes: 'ok' }] });
    const final = await h.result();
    expect(final.stage).toBe('closed');
    expect(final.breaches).toEqual([]);
    const events = (await h.fetchHistory()).events!.length;
    console.log(`full case with ten progress updates: ${events} history events`);
    expect(events).toBeLessThan(300);
  });
});

export type { Handle };
