import {
  DEFAULT_POLICY,
  PlaybookError,
  RULES_VERSION,
  act,
  apply,
  caseView,
  nextWake,
  openCase,
  openDeadlines,
  recordDelivery,
  tick,
  type Action,
  type CaseInput,
  type CaseState,
  type Outbound,
  type Policy,
} from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** A case driven by hand: actions and clock ticks, collecting everything it asked to send. */
class Sim {
  state: CaseState;
  sent: Outbound[] = [];
  now = T0;
  constructor(input: CaseInput = caseInput(), policy: Policy = DEFAULT_POLICY) {
    const t = openCase({ id: 'c1', input, policy, now: T0, rulesVersion: RULES_VERSION });
    this.state = t.state;
    this.sent.push(...t.effects);
  }
  /**
   * Acts `after` ms from now, as the workflow does: timers strictly before that moment have fired;
   * whatever falls due at the moment itself is left to the action (which runs the clock first).
   */
  act(action: Action, after = 0) {
    this.advance(after, { before: true });
    const t = act(this.state, action, this.now);
    this.state = t.state;
    this.sent.push(...t.effects);
    return t;
  }
  /** Moves the clock, waking the case at each of its timer points on the way, as the workflow does. */
  advance(ms: number, o: { before?: boolean } = {}) {
    const end = this.now + ms;
    for (let w = nextWake(this.state); w && (o.before ? w.at < end : w.at <= end); w = nextWake(this.state)) {
      this.now = Math.max(this.now, w.at);
      const t = tick(this.state, this.now);
      this.state = t.state;
      this.sent.push(...t.effects);
    }
    this.now = end;
  }
  kinds(filter: (m: Outbound) => boolean = () => true) {
    return this.sent.filter(filter).map((m) => `${m.kind}:${m.channel}:${m.to.join('+')}`);
  }
  take() {
    const out = this.sent;
    this.sent = [];
    return out;
  }
}

const customerEmails = (s: Sim) => s.sent.filter((m) => m.audience === 'customer').map((m) => m.template);

describe('a case walked through every stage', () => {
  test('acknowledge → investigate → communicate → resolve → follow_up → recovery → closed', () => {
    const sim = new Sim(caseInput({ customer: { ...caseInput().customer, nextQbrDate: '2026-03-10T15:00:00Z' } }));
    expect(sim.state.stage).toBe('acknowledge');
    sim.act({ type: 'acknowledge', by: 'sam', nextUpdateAt: at(50 * MIN) }, 20 * MIN);
    expect(sim.state.stage).toBe('investigate');
    expect(sim.state.acknowledgedAt).toBe(at(20 * MIN));
    expect(caseView(sim.state).playbook?.ask).toContain('When did this start?');
    sim.act({ type: 'note', text: 'Sync worker OOM on files > 2GB', kind: 'root_cause' }, 5 * MIN);
    sim.act({ type: 'update', known: 'Large files crash the sync worker', nextUpdateAt: at(3 * HOUR) }, 20 * MIN);
    expect(sim.state.stage).toBe('communicate');
    expect(sim.state.firstResponseAt).toBe(at(45 * MIN));
    sim.act({ type: 'resolve', rootCause: 'Memory limit', fix: 'Raised the limit and streamed uploads', prevention: 'Load tests on 5GB files' }, 2 * HOUR);
    expect(sim.state.stage).toBe('resolve');
    sim.act({ type: 'confirmation', resolved: true, by: 'customer' }, 3 * HOUR);
    expect(sim.state.stage).toBe('follow_up');
    expect(sim.state.tasks.map((t) => t.kind)).toEqual(['follow_up', 'recovery_call', 'health_check', 'qbr_review']);

    sim.advance(24 * HOUR); // followUpAfter: the follow-up email goes out by itself
    expect(sim.state.stage).toBe('recovery');
    expect(customerEmails(sim)).toEqual(['acknowledgement', 'progress_update', 'resolution', 'follow_up']);

    sim.act({ type: 'complete_task', kind: 'recovery_call', notes: 'Called Dana; stable' }, 2 * DAY);
    sim.act({ type: 'csat', score: 9, by: 'customer' }, HOUR);
    sim.act({ type: 'complete_task', kind: 'health_check', notes: 'Health check done' }, 20 * DAY);
    expect(sim.state.stage).toBe('recovery'); // the QBR is still ahead
    sim.act({ type: 'complete_task', kind: 'qbr_review', notes: 'Covered at the QBR' }, 35 * DAY);
    expect(sim.state.stage).toBe('closed');
    expect(sim.state.status).toBe('closed');
    expect(sim.state.breaches).toEqual([]);
    expect(openDeadlines(sim.state)).toEqual([]);
    expect(nextWake(sim.state)).toBeNull();
  });

  test('with a renewal date the case closes only once the outcome is recorded, after a reminder at the renewal', () => {
    const sim = new Sim(caseInput({ severity: 'low', customer: { ...caseInput().customer, renewalDate: '2026-03-01T00:00:00Z' } }));
    sim.act({ type: 'acknowledge' }, 10 * MIN);
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, HOUR);
    sim.act({ type: 'confirmation', resolved: true }, HOUR);
    sim.act({ type: 'complete_task', kind: 'follow_up', notes: 'Called instead of emailing' }, 2 * HOUR);
    sim.act({ type: 'complete_task', kind: 'recovery_call', notes: 'ok' }, DAY);
    sim.act({ type: 'complete_task', kind: 'health_check', notes: 'ok' }, 10 * DAY);
    expect(sim.state.stage).toBe('recovery');
    sim.take();
    sim.advance(60 * DAY);
    expect(sim.kinds()).toContain('reminder:email:csm');
    expect(sim.state.breaches).toEqual([]);
    sim.act({ type: 'outcome', churned: false, note: 'Renewed for 2 years' });
    expect(sim.state.stage).toBe('closed');
    expect(customerEmails(sim)).not.toContain('follow_up'); // the CSM did the follow-up personally
  });

  test('"not fixed" reopens the case to communicate and restarts the update clock', () => {
    const sim = new Sim();
    sim.act({ type: 'acknowledge' }, 10 * MIN);
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, 30 * MIN);
    sim.take();
    sim.act({ type: 'confirmation', resolved: false, comment: 'Still failing for EU files' }, HOUR);
    expect(sim.state.stage).toBe('communicate');
    expect(sim.state.resolvedAt).toBeNull();
    expect(sim.kinds()).toEqual(['reopened:email:csm+supportLead+engineering', 'reopened:slack:csm+supportLead+engineering']);
    expect(caseView(sim.state).deadlines.nextUpdate).toBe(at(40 * MIN + HOUR + HOUR));
  });
});

describe('the clock', () => {
  test('an unacknowledged case warns the owner, then breaches to the CSM manager and support lead, then reminds a bounded number of times', () => {
    const sim = new Sim();
    sim.take();
    sim.advance(45 * MIN);
    expect(sim.kinds()).toEqual(['deadline_warning:email:csm', 'deadline_warning:slack:csm']);
    expect(sim.sent[0].data).toMatchObject({ deadline: 'acknowledge,respond' });
    sim.take();
    sim.advance(15 * MIN);
    expect(sim.state.breaches).toEqual([
      { kind: 'acknowledge', dueAt: at(HOUR), at: at(HOUR) },
      { kind: 'respond', dueAt: at(HOUR), at: at(HOUR) },
    ]);
    expect(sim.kinds((m) => m.kind === 'breach')).toEqual(['breach:email:csm+csmManager+supportLead', 'breach:slack:csm+csmManager+supportLead']);
    sim.take();
    sim.advance(30 * DAY);
    const reminders = sim.kinds((m) => m.kind === 'reminder' && m.channel === 'email');
    expect(reminders).toHaveLength(DEFAULT_POLICY.maxReminders); // acknowledge and respond together, 3 times
    // the unresolved trigger fires once at 24h
    expect(sim.state.internalEscalations.map((e) => [e.trigger, e.to, e.at])).toEqual([['unresolved', ['csmManager'], at(24 * HOUR)]]);
  });

  test('warnBefore as a duration warns that long before each deadline (never before the window opens)', () => {
    const sim = new Sim(caseInput({ severity: 'low' }), { ...DEFAULT_POLICY, warnBefore: '10m' });
    sim.take();
    sim.advance(49 * MIN);
    expect(sim.kinds()).toEqual([]);
    sim.advance(MIN);
    expect(sim.kinds()).toEqual(['deadline_warning:email:csm', 'deadline_warning:slack:csm']);
    expect(sim.sent[0].data).toMatchObject({ deadline: 'acknowledge' });
  });

  test('a missed promised update is a breach; a kept one is not', () => {
    const sim = new Sim(caseInput({ severity: 'high' }));
    sim.act({ type: 'acknowledge' }, 10 * MIN);
    sim.act({ type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) }, 50 * MIN);
    sim.act({ type: 'update', known: 'k2', nextUpdateAt: at(5 * HOUR) }, 55 * MIN);
    expect(sim.state.breaches).toEqual([]);
    sim.advance(4 * HOUR);
    expect(sim.state.breaches).toEqual([{ kind: 'next_update', dueAt: at(5 * HOUR), at: at(5 * HOUR) }]);
    expect(sim.kinds((m) => m.kind === 'breach')).toEqual(['breach:email:csm+csmManager', 'breach:slack:csm+csmManager']);
  });

  test('raising the severity recomputes the response deadline and tells the newly involved', () => {
    const sim = new Sim(caseInput({ severity: 'medium' }));
    sim.act({ type: 'acknowledge' }, 30 * MIN);
    expect(caseView(sim.state).deadlines.respond).toBe(at(24 * HOUR));
    sim.take();
    sim.act({ type: 'severity', severity: 'critical', reason: 'Now blocking payroll' }, 60 * MIN);
    expect(caseView(sim.state).deadlines.respond).toBe(at(HOUR));
    expect(sim.kinds()).toEqual(['severity_changed:email:csm+supportLead+engineering', 'severity_changed:slack:csm+supportLead+engineering']);
    sim.take();
    sim.advance(1); // the new deadline has already passed: breach at once
    expect(sim.state.breaches.map((b) => b.kind)).toEqual(['respond']);
  });

  test('the follow-up goes out at followUpAfter unless the CSM did it first; missed recovery steps are breaches', () => {
    const sim = new Sim();
    sim.act({ type: 'acknowledge' }, 10 * MIN);
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, 30 * MIN);
    sim.act({ type: 'confirmation', resolved: true }, 30 * MIN);
    sim.take();
    sim.advance(24 * HOUR);
    expect(sim.kinds((m) => m.audience === 'customer')).toEqual(['follow_up:email:contact']);
    sim.take();
    sim.advance(31 * DAY);
    expect(sim.state.breaches.map((b) => b.kind)).toEqual(['recovery_call', 'health_check']);
    expect(sim.kinds((m) => m.kind === 'deadline_warning' && m.channel === 'email')).toEqual([
      'deadline_warning:email:csm',
      'deadline_warning:email:csm',
    ]);
  });

  test('a QBR reminder goes to the CSM qbrReminderBefore the QBR', () => {
    const qbr = T0 + 20 * DAY;
    const sim = new Sim(caseInput({ customer: { ...caseInput().customer, nextQbrDate: new Date(qbr).toISOString() } }));
    sim.act({ type: 'acknowledge' }, 10 * MIN);
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, 30 * MIN);
    sim.act({ type: 'confirmation', resolved: true }, 30 * MIN);
    sim.act({ type: 'complete_task', kind: 'recovery_call', notes: 'done' }, DAY);
    sim.act({ type: 'complete_task', kind: 'health_check', notes: 'done' }, DAY);
    sim.take();
    sim.advance(qbr - 7 * DAY - sim.now);
    expect(sim.kinds()).toEqual(['deadline_warning:email:csm', 'deadline_warning:slack:csm']);
    expect(sim.sent[0].data).toMatchObject({ deadline: 'qbr_review' });
  });
});

describe('what each stage refuses', () => {
  const refuses = (s: CaseState, action: Action, code = 'conflict') =>
    expect(() => apply(s, action, T0 + HOUR)).toThrow(expect.objectContaining({ code }) as PlaybookError);

  test.each<[string, Action]>([
    ['a progress update', { type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) }],
    ['a resolution', { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }],
    ['a confirmation', { type: 'confirmation', resolved: true }],
    ['a task', { type: 'complete_task', kind: 'recovery_call', notes: 'n' }],
    ['a CSAT', { type: 'csat', score: 8 }],
  ])('an unacknowledged case refuses %s', (_what, action) => refuses(new Sim().state, action));

  test('a second acknowledgement, an unchanged severity and a task done twice are conflicts', () => {
    const sim = new Sim();
    sim.act({ type: 'acknowledge' });
    refuses(sim.state, { type: 'acknowledge' });
    refuses(sim.state, { type: 'severity', severity: 'critical', reason: 'same' });
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' });
    sim.act({ type: 'confirmation', resolved: true });
    sim.act({ type: 'complete_task', kind: 'recovery_call', notes: 'n' });
    refuses(sim.state, { type: 'complete_task', kind: 'recovery_call', notes: 'again' });
    refuses(sim.state, { type: 'complete_task', kind: 'qbr_review', notes: 'no QBR date' });
  });

  test('a closed case refuses everything', () => {
    const sim = new Sim();
    sim.act({ type: 'close', reason: 'duplicate', by: 'admin' });
    expect(sim.state).toMatchObject({ stage: 'closed', status: 'closed', closeReason: 'duplicate' });
    refuses(sim.state, { type: 'note', text: 'x' });
    refuses(sim.state, { type: 'close', reason: 'again' });
  });

  test('lint refusals and a next-update time in the past', () => {
    const sim = new Sim();
    refuses(sim.state, { type: 'acknowledge', note: "I'll look into it" }, 'lint');
    refuses(sim.state, { type: 'acknowledge', nextUpdateAt: at(-MIN) }, 'invalid');
    expect(apply(sim.state, { type: 'acknowledge', note: "I'll look into it", overrideLint: true }, T0).state.stage).toBe('investigate');
  });
});

describe('delivery results', () => {
  test('a failed email is recorded with its reason and the CSM is told on Slack', () => {
    const sim = new Sim();
    const email = sim.sent.find((m) => m.channel === 'email')!;
    const t = recordDelivery(sim.state, { id: email.id, status: 'failed', reason: '550 no such user' }, T0 + MIN);
    expect(t.state.messages.find((m) => m.id === email.id)).toMatchObject({ status: 'failed', reason: '550 no such user' });
    expect(t.effects.map((m) => [m.kind, m.channel, m.to])).toEqual([['delivery_failed', 'slack', ['csm']]]);
    const notice = t.effects[0];
    expect(recordDelivery(t.state, { id: notice.id, status: 'failed', reason: 'invalid_auth' }, T0 + MIN).effects).toEqual([]);
  });

  test('customer emails thread on the ones before them', () => {
    const sim = new Sim();
    sim.act({ type: 'acknowledge' });
    sim.act({ type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) }, MIN);
    sim.act({ type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }, MIN);
    const threads = sim.sent.filter((m) => m.audience === 'customer').map((m) => [m.id, m.thread]);
    const [ack, upd] = threads.map((x) => x[0]);
    expect(threads.map((x) => x[1])).toEqual([[], [ack], [ack, upd]]);
  });
});
