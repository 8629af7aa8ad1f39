import { allDelivered, caseWhen, recordingActivities, runCase, timeSkippingSuite } from '../helpers/workflow-harness';
import { caseInput } from '../helpers/fixtures';
import { ACTION_UPDATES } from '../../workflows/messages';
import { panelKey } from '../../playbook';

const t = timeSkippingSuite();

test('the root post is updated in place when what its panel shows changes — stage, deadline, pause, closing — and not for a note', async () => {
  const { activities, panels } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), activities }, async (h) => {
    await caseWhen(h, allDelivered, 'the opening alerts');
    expect(panels).toEqual([]); // the first post shows the case as it opened

    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam' }] });
    await caseWhen(h, (c) => allDelivered(c) && panels.length === 1, 'one panel update');
    expect(panels[0]).toMatchObject({ threadTs: '1700000000.000100', case: { stage: 'investigate' } });

    await h.executeUpdate(ACTION_UPDATES.note, { args: [{ text: 'internal only' }] });
    await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_customer' }] });
    await caseWhen(h, () => panels.length === 2, 'the pause shown');
    expect(panels[1].case.paused).toBe(true);

    await h.executeUpdate(ACTION_UPDATES.close, { args: [{ reason: 'duplicate' }] });
    await h.result();
    expect(panels.at(-1)!.case.status).toBe('closed');
    // Each update shows something new.
    const keys = panels.map((p) => panelKey(p.case));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

test('with Slack off, the first post learns it and the next ones are recorded as skipped without an activity (an hour, then it asks again)', async () => {
  const { activities: base } = recordingActivities();
  const postSlack = jest.fn(async () => ({ status: 'skipped' as const, to: [], reason: 'Slack is off (no SLACK_BOT_TOKEN)', off: true }));
  await runCase(t.env, t.code, { input: caseInput({ severity: 'critical' }), activities: { ...base, postSlack } }, async (h) => {
    await caseWhen(h, allDelivered, 'the opening alerts');
    const calls = postSlack.mock.calls.length;
    expect(calls).toBe(1);
    await t.env.sleep('50m'); // the warning before the 1-hour deadlines, within the hour
    const c = await caseWhen(h, (x) => allDelivered(x) && x.messages.some((m) => m.kind === 'deadline_warning' && m.channel === 'slack'), 'the warning');
    const slack = c.messages.filter((m) => m.channel === 'slack');
    expect(slack.length).toBeGreaterThan(1);
    expect(slack.every((m) => m.status === 'skipped' && m.reason === 'Slack is off (no SLACK_BOT_TOKEN)')).toBe(true);
    expect(postSlack.mock.calls.length).toBe(1);
    await t.env.sleep('5h'); // the first reminder, hours later: that post asks the worker again
    await caseWhen(h, () => postSlack.mock.calls.length > 1, 'asked again after an hour');
  });
});
