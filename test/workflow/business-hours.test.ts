import { DateTime } from 'luxon';
import { caseWhen, recordingActivities, runCase, timeSkippingSuite } from '../helpers/workflow-harness';
import { caseInput } from '../helpers/fixtures';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import type { Calendar } from '../../playbook';

const t = timeSkippingSuite();

const OFFICE: Calendar = {
  name: 'office',
  timezone: 'UTC',
  hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] },
  holidays: [],
};
const serverNow = async () => Number(await t.env.currentTimeMs());
/** Skips the server's clock to `at` (epoch ms). */
const skipTo = async (at: number) => t.env.sleep(Math.max(1, at - (await serverNow())));
const utc = (ms: number) => DateTime.fromMillis(ms, { zone: 'UTC' });

test('a high case opened on Friday at 16:00 is due on Monday at 12:00: nothing fires over the weekend, the breach lands on Monday', async () => {
  // Skip to the next Friday 16:00 UTC, whatever day the test server started on.
  const now = utc(await serverNow());
  let friday = now.set({ weekday: 5, hour: 16, minute: 0, second: 0, millisecond: 0 });
  if (friday.toMillis() <= now.toMillis()) friday = friday.plus({ weeks: 1 });
  await skipTo(friday.toMillis());
  const monday = friday.plus({ days: 3 });
  const { activities, sent } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), activities, calendar: OFFICE }, async (h) => {
    const opened = await h.query(getCaseQuery);
    expect(opened.calendar).toBe('office');
    // What was left of Friday's last business hour (it opened a moment after 16:00 on a busy machine),
    // then Monday from 09:00: the first update is due at 12:00 plus that moment.
    const late = Date.parse(opened.openedAt) - friday.toMillis();
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(3_600_000);
    const dueAt = monday.set({ hour: 12 }).toMillis() + late;
    expect(Date.parse(opened.deadlines.respond!)).toBe(dueAt);
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam', nextUpdateAt: monday.set({ hour: 10 }).toISO()! }] });

    await skipTo(monday.set({ hour: 10, minute: 59 }).toMillis()); // the whole weekend
    let c = await h.query(getCaseQuery);
    expect(c.breaches).toEqual([]);
    expect(sent.filter((i) => i.message.kind === 'deadline_warning' && i.message.data.deadline === 'respond')).toEqual([]);

    await skipTo(dueAt + 60_000);
    c = await caseWhen(h, (x) => x.breaches.some((b) => b.kind === 'respond'), 'the respond breach');
    expect(Date.parse(c.breaches.find((b) => b.kind === 'respond')!.dueAt)).toBe(dueAt);
    // The warning came in the last business hour before it, on Monday morning, not on Friday evening.
    expect(sent.some((i) => i.message.kind === 'deadline_warning' && String(i.message.data.deadline).includes('respond'))).toBe(true);
  });
});

test('a pause given an end resumes by itself on its durable timer; resume by hand moves the deadlines by the time paused', async () => {
  const { activities } = recordingActivities();
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), activities }, async (h) => {
    const start = await serverNow();
    await h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ by: 'sam', nextUpdateAt: new Date(start + 3_600_000).toISOString() }] });
    const respondDue = Date.parse((await h.query(getCaseQuery)).deadlines.respond!);
    const paused = await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_third_party', until: new Date(start + 2 * 3_600_000).toISOString() }] });
    expect(paused.paused?.reason).toBe('waiting_on_third_party');
    expect(paused.deadlines.respond).toBeNull();
    await t.env.sleep('3h');
    const c = await caseWhen(h, (x) => x.paused === null, 'resumed at its end');
    expect(c.pausedSeconds).toBeGreaterThan(7_000);
    // Moved by exactly the time paused (the view rounds it to the second).
    expect(Math.abs(Date.parse(c.deadlines.respond!) - respondDue - c.pausedSeconds * 1000)).toBeLessThan(1000);
    expect(c.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['paused', 'resumed']));
    await h.executeUpdate(ACTION_UPDATES.pause, { args: [{ reason: 'waiting_on_customer' }] });
    const resumed = await h.executeUpdate(ACTION_UPDATES.resume, { args: [{ note: 'They answered by phone' }] });
    expect(resumed.paused).toBeNull();
  });
});
