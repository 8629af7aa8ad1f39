import type { DeliverInput, DeliveryResult, SendActivities } from '../../activities/types';
import { DEFAULT_POLICY } from '../../playbook';
import { getCaseQuery } from '../../workflows/messages';
import { caseInput } from '../helpers/fixtures';
import { recordingActivities, runCase, timeSkippingSuite, until } from '../helpers/workflow-harness';

// Its own time-skipping server: sends retried for minutes of skipped time must not share a server with
// tests that leave work behind (as the late-action test does for the same reason).
const t = timeSkippingSuite();


/** Skips time on the test server, bounded: a server that cannot skip fails the test in 30 s instead of hanging it. */
async function skip(duration: Parameters<typeof t.env.sleep>[0]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    t.env.sleep(duration),
    new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`the test server did not skip ${String(duration)} within 30 s`)), 30_000))),
  ]).finally(() => clearTimeout(timer));
}

test('a failing Slack post holds no other: replies go out beside it, and a failing first post holds the rest for its bound only', async () => {
  const { activities: base, sent } = recordingActivities();
  let failRoot = true;
  const activities: SendActivities = {
    ...base,
    async postSlack(i: DeliverInput): Promise<DeliveryResult> {
      // Slack answers 500 to the case's first post for a while, and to the acknowledgement reply forever.
      if ((!i.threadTs && failRoot) || i.message.kind === 'breach') throw new Error('Slack HTTP 500');
      return base.postSlack(i);
    },
  };
  // Warning at 5 m, breach at 10 m, reminders every 3 m after it.
  const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '10m', warnBefore: '5m', remindEvery: '3m' };
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high' }), policy, activities }, async (h) => {
    // The first post keeps failing; after its bound (SLACK_ROOT_BOUND) it is recorded failed and the next post starts the thread.
    await skip('3m');
    let c = await until(() => h.query(getCaseQuery), (x) => x.messages.some((m) => m.kind === 'case_opened' && m.channel === 'slack' && m.status === 'failed'), 'the first post given up');
    failRoot = false;
    await skip('3m'); // the warning (at 5 m) starts the thread
    c = await until(() => h.query(getCaseQuery), (x) => x.messages.some((m) => m.kind === 'deadline_warning' && m.channel === 'slack' && m.status === 'sent'), 'the warning posted');
    // The breach post (10 m) fails and is retried for minutes; the reminder (13 m) goes out in the thread meanwhile.
    await skip('8m');
    c = await until(() => h.query(getCaseQuery), (x) => x.messages.some((m) => m.kind === 'reminder' && m.channel === 'slack' && m.status === 'sent'), 'the reminder posted');
    expect(c.messages.find((m) => m.kind === 'breach' && m.channel === 'slack')?.status).toBe('pending');
    expect(sent.filter((i) => i.message.channel === 'slack' && !i.threadTs)).toHaveLength(1);
  });
});
