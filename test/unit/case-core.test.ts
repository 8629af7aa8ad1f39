import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACTION_STAGES,
  DEFAULT_LIMITS,
  DEFAULT_POLICY,
  PlaybookError,
  RULES_VERSION,
  STAGES,
  THREAD_REFERENCES,
  act,
  actionsAllowed,
  caseView,
  closeFromOutside,
  nextWake,
  openCase,
  recordDelivery,
  tick,
  validate,
  type Action,
  type ActionType,
  type CaseInput,
  type CaseState,
  type Limits,
  type Outbound,
  type Policy,
  type Stage,
} from '../../playbook';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** A case of today's rules, driven by hand at the moments the workflow would act. */
function open(o: { input?: CaseInput; policy?: Policy; limits?: Limits; rulesVersion?: number } = {}) {
  const t = openCase({ id: 'c1', input: o.input ?? caseInput(), policy: o.policy ?? DEFAULT_POLICY, now: T0, rulesVersion: o.rulesVersion ?? RULES_VERSION, limits: o.limits });
  let state = t.state;
  let now = T0;
  const sent: Outbound[] = [...t.effects];
  return {
    get state() {
      return state;
    },
    get now() {
      return now;
    },
    sent,
    /** Timers strictly before `ms` fire (the worker was up); then the action lands at `ms`. */
    actAt(ms: number, action: Action, o2: { timersFired?: boolean } = { timersFired: true }) {
      if (o2.timersFired) {
        for (let w = nextWake(state); w && w.at < T0 + ms; w = nextWake(state)) {
          const x = tick(state, w.at);
          state = x.state;
          sent.push(...x.effects);
        }
      }
      now = T0 + ms;
      const x = act(state, action, now);
      state = x.state;
      sent.push(...x.effects);
      return x;
    },
    tickAt(ms: number) {
      for (let w = nextWake(state); w && w.at <= T0 + ms; w = nextWake(state)) {
        const x = tick(state, w.at);
        state = x.state;
        sent.push(...x.effects);
      }
      now = T0 + ms;
    },
  };
}

const refusal = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as PlaybookError).code;
  }
};

describe('a late action is late', () => {
  test('an acknowledgement 4.2 s after its window, before any timer fired, records the breach', () => {
    const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '3s' };
    const c = open({ policy });
    c.actAt(4.2 * SEC, { type: 'acknowledge', nextUpdateAt: at(HOUR) }, { timersFired: false });
    expect(c.state.breaches.map((b) => b.kind)).toEqual(['acknowledge']);
    expect(c.state.breaches[0]).toMatchObject({ dueAt: at(3 * SEC), at: at(4.2 * SEC) });
    expect(c.sent.filter((m) => m.kind === 'breach')).toHaveLength(2); // email + Slack, once
    expect(c.state.stage).toBe('investigate');
  });

  test('on time is not late: an acknowledgement just inside the window records nothing', () => {
    const c = open({ policy: { ...DEFAULT_POLICY, acknowledgeWithin: '3s' } });
    c.actAt(2.9 * SEC, { type: 'acknowledge', nextUpdateAt: at(HOUR) }, { timersFired: false });
    expect(c.state.breaches).toEqual([]);
  });

  test('cases opened under rules 1 keep their behaviour: the action lands first', () => {
    const c = open({ policy: { ...DEFAULT_POLICY, acknowledgeWithin: '3s' }, rulesVersion: 1 });
    c.actAt(4.2 * SEC, { type: 'acknowledge', nextUpdateAt: at(HOUR) }, { timersFired: false });
    expect(c.state.breaches).toEqual([]);
    expect(c.state.rulesVersion).toBeUndefined();
    expect(caseView(c.state).rulesVersion).toBe(1);
  });

  test('the validator runs the clock too: an action the overdue clock makes impossible is refused before it reaches the history', () => {
    const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '3s', followUpAfter: '1h', followUpWithin: '2h' };
    const c = open({ policy });
    c.actAt(SEC, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
    c.actAt(2 * SEC, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' });
    c.actAt(3 * SEC, { type: 'confirmation', resolved: true });
    // The automatic follow-up is overdue (its timer has not fired): it has gone out by the time a person acts.
    expect(refusal(() => validate(c.state, { type: 'complete_task', kind: 'follow_up', notes: 'n' }, T0 + 2 * HOUR))).toBe('conflict');
    expect(refusal(() => validate(c.state, { type: 'complete_task', kind: 'follow_up', notes: 'n' }, T0 + 30 * MIN))).toBeUndefined();
  });
});

describe('rules that tests must pin (each of these mutations once survived)', () => {
  test('the first-response window is read from respondWithin, not updateEvery', () => {
    const policy: Policy = { ...DEFAULT_POLICY, respondWithin: { ...DEFAULT_POLICY.respondWithin, high: '3h' }, updateEvery: { ...DEFAULT_POLICY.updateEvery, high: '5h' } };
    const c = open({ input: caseInput({ severity: 'high' }), policy });
    expect(caseView(c.state).deadlines.respond).toBe(at(3 * HOUR));
    c.tickAt(3 * HOUR);
    expect(c.state.breaches.map((b) => b.kind)).toContain('respond');
  });

  test('a breach is routed by the severity the case has now, not the one it opened with', () => {
    const c = open({ input: caseInput({ severity: 'medium' }) });
    c.actAt(10 * MIN, { type: 'severity', severity: 'critical', reason: 'Payroll blocked' });
    c.tickAt(HOUR);
    const breach = c.sent.filter((m) => m.kind === 'breach');
    expect(breach.length).toBeGreaterThan(0);
    for (const m of breach) expect(m.to).toEqual(['csm', 'csmManager', 'supportLead']);
  });

  test.each([
    ["I'll look into it", 'vague_phrase'],
    ['I will look into this for you', 'vague_phrase'],
    ["That shouldn't happen on our side", 'irrelevant_phrase'],
    ['This should not have happened', 'irrelevant_phrase'],
    ['Let me check with the team', 'no_timeline'],
    ['let me check with our team and get back', 'no_timeline'],
  ])('the playbook refuses "%s" (%s) in every customer-facing field', (phrase, code) => {
    const c = open();
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as PlaybookError;
      }
      throw new Error('not refused');
    };
    const ack = err(() => validate(c.state, { type: 'acknowledge', note: phrase }, T0));
    expect([ack.code, (ack.details as { code: string }[])[0].code]).toEqual(['lint', code]);
    c.actAt(MIN, { type: 'acknowledge', nextUpdateAt: at(2 * HOUR) });
    for (const field of ['known', 'unknown', 'workaround']) {
      const e = err(() => validate(c.state, { type: 'update', known: 'k', [field]: phrase, nextUpdateAt: at(3 * HOUR) } as Action, c.now));
      expect([e.code, (e.details as { field: string }[])[0].field]).toEqual(['lint', field]);
    }
    for (const field of ['rootCause', 'fix', 'prevention']) {
      const e = err(() => validate(c.state, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c', [field]: phrase } as Action, c.now));
      expect([e.code, (e.details as { field: string }[])[0].field]).toEqual(['lint', field]);
    }
  });

  test('"Let me check with the team" is fine with a time', () => {
    const c = open();
    expect(() => validate(c.state, { type: 'acknowledge', note: 'Let me check with the team by 3pm' }, T0)).not.toThrow();
  });

  test('"not fixed" starts the update clock again: the next update is due a full window after the reopening, not at the old promise', () => {
    const policy: Policy = { ...DEFAULT_POLICY, updateEvery: { ...DEFAULT_POLICY.updateEvery, critical: '6h' } };
    const c = open({ policy });
    c.actAt(10 * MIN, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
    c.actAt(30 * MIN, { type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) });
    c.actAt(40 * MIN, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' });
    c.actAt(50 * MIN, { type: 'confirmation', resolved: false });
    expect(caseView(c.state).deadlines.nextUpdate).toBe(at(50 * MIN + 6 * HOUR));
  });

  test('the severity cannot change once the customer confirmed the fix (it can while awaiting confirmation)', () => {
    const c = open();
    c.actAt(10 * MIN, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
    c.actAt(20 * MIN, { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' });
    expect(refusal(() => validate(c.state, { type: 'severity', severity: 'low', reason: 'r' }, c.now))).toBeUndefined();
    c.actAt(30 * MIN, { type: 'confirmation', resolved: true });
    expect(refusal(() => validate(c.state, { type: 'severity', severity: 'low', reason: 'r' }, c.now))).toBe('conflict');
  });
});

describe('one table of which stage allows which action', () => {
  const payload: Record<ActionType, Action> = {
    acknowledge: { type: 'acknowledge' },
    note: { type: 'note', text: 'n' },
    update: { type: 'update', known: 'k', nextUpdateAt: at(400 * HOUR) },
    severity: { type: 'severity', severity: 'low', reason: 'r' },
    internal_escalation: { type: 'internal_escalation', trigger: 'product_gap', note: 'n' },
    resolve: { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' },
    confirmation: { type: 'confirmation', resolved: true },
    complete_task: { type: 'complete_task', kind: 'health_check', notes: 'n' },
    csat: { type: 'csat', score: 9 },
    outcome: { type: 'outcome', churned: false },
    close: { type: 'close', reason: 'r' },
    pause: { type: 'pause', reason: 'waiting_on_customer' },
    resume: { type: 'resume' },
    transfer: { type: 'transfer', team: 'emea', reason: 'r' },
    rotate_status_link: { type: 'rotate_status_link' },
    reply: { type: 'reply', from: 'pat@example.com', text: 'Thanks!' },
  };
  /** A case in each stage. */
  function inStage(stage: Stage): CaseState {
    const c = open({ input: caseInput({ customer: { ...caseInput().customer, renewalDate: '2027-01-01T00:00:00Z' } }) });
    const steps: [Stage, Action][] = [
      ['investigate', { type: 'acknowledge', nextUpdateAt: at(HOUR) }],
      ['communicate', { type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) }],
      ['resolve', { type: 'resolve', rootCause: 'a', fix: 'b', prevention: 'c' }],
      ['follow_up', { type: 'confirmation', resolved: true }],
      ['recovery', { type: 'complete_task', kind: 'follow_up', notes: 'n' }],
    ];
    let n = 1;
    for (const [reached, a] of steps) {
      if (c.state.stage === stage) break;
      c.actAt(n++ * MIN, a);
      expect(c.state.stage).toBe(reached);
    }
    if (stage === 'closed') c.actAt(n * MIN, { type: 'close', reason: 'r' });
    expect(c.state.stage).toBe(stage);
    return c.state;
  }

  test.each(STAGES)('in stage %s the state machine allows exactly what the table says, and the view lists it', (stage) => {
    const s = inStage(stage);
    for (const type of Object.keys(ACTION_STAGES) as ActionType[]) {
      // Resuming needs a pause in force: where the table allows it, the case is paused first.
      const before = type === 'resume' && ACTION_STAGES.pause.includes(stage) ? act(s, payload.pause, T0 + 20 * MIN).state : s;
      const code = refusal(() => validate(before, payload[type], T0 + 30 * MIN));
      if (ACTION_STAGES[type].includes(stage)) expect([type, code]).toEqual([type, undefined]);
      else expect([type, code]).toEqual([type, 'conflict']);
    }
    expect(caseView(s).playbook?.allowedActions ?? []).toEqual(stage === 'closed' ? [] : actionsAllowed(stage));
  });
});

describe('a case with a budget', () => {
  test('fired timer keys are pruned to those that can still come up', () => {
    const c = open();
    c.tickAt(50 * MIN); // the acknowledge and respond warnings fired
    expect(c.state.fired.length).toBeGreaterThan(0);
    c.actAt(55 * MIN, { type: 'acknowledge', nextUpdateAt: at(2 * HOUR) });
    c.actAt(58 * MIN, { type: 'update', known: 'k', nextUpdateAt: at(3 * HOUR) });
    expect(c.state.fired.filter((k) => /acknowledge|respond/.test(k))).toEqual([]);
  });

  test('a deadline that comes back at the same moment is missed once, not twice', () => {
    const c = open({ input: caseInput({ severity: 'critical' }) });
    c.tickAt(2 * HOUR); // respond (1h) missed
    c.actAt(2 * HOUR + MIN, { type: 'severity', severity: 'low', reason: 'r' });
    c.actAt(2 * HOUR + 2 * MIN, { type: 'severity', severity: 'critical', reason: 'back' });
    c.tickAt(3 * HOUR);
    expect(c.state.breaches.filter((b) => b.kind === 'respond')).toHaveLength(1);
  });

  test('notes, updates, timeline entries and stored text stop at their limits with limit_reached; closing is always possible', () => {
    const limits: Limits = { notes: 3, updates: 2, timeline: 12, storedTextChars: 50 };
    const c = open({ limits });
    c.actAt(MIN, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
    for (let i = 0; i < 3; i++) c.actAt((2 + i) * MIN, { type: 'note', text: `note ${i}` });
    const refused = (a: Action) => {
      try {
        validate(c.state, a, c.now);
      } catch (e) {
        return [(e as PlaybookError).code, ((e as PlaybookError).details as { limit: string }).limit];
      }
      return undefined;
    };
    expect(refused({ type: 'note', text: 'one too many' })).toEqual(['limit', 'notes']);
    c.actAt(10 * MIN, { type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) });
    c.actAt(11 * MIN, { type: 'update', known: 'k', nextUpdateAt: at(2 * HOUR) });
    expect(refused({ type: 'update', known: 'k', nextUpdateAt: at(3 * HOUR) })).toEqual(['limit', 'updates']);
    expect(refused({ type: 'internal_escalation', trigger: 'product_gap', note: 'x'.repeat(45) })).toEqual(['limit', 'storedTextChars']);
    c.actAt(12 * MIN, { type: 'internal_escalation', trigger: 'product_gap', note: 'short' });
    while (caseView(c.state).timeline.length < limits.timeline) c.actAt(13 * MIN, { type: 'severity', severity: c.state.severity === 'low' ? 'high' : 'low', reason: 'r' });
    expect(refused({ type: 'severity', severity: c.state.severity === 'low' ? 'high' : 'low', reason: 'r' })).toEqual(['limit', 'timeline']);
    c.actAt(14 * MIN, { type: 'close', reason: 'duplicate' });
    expect(c.state.status).toBe('closed');
  });

  test('defaults: the limits travel with the case and show in the view', () => {
    const c = open();
    expect(c.state.limits).toEqual(DEFAULT_LIMITS);
    expect(caseView(c.state).limits).toEqual(DEFAULT_LIMITS);
  });

  test('timeline summaries are one short line whatever a person wrote; the note keeps the whole text', () => {
    const c = open();
    c.actAt(MIN, { type: 'note', text: 'x'.repeat(9_000) });
    expect(caseView(c.state).timeline.at(-1)).toMatchObject({ type: 'note', summary: expect.stringMatching(/^investigation note #1: x+…$/) });
    expect(caseView(c.state).timeline.at(-1)!.summary.length).toBeLessThanOrEqual(200);
    expect(c.state.notes[0].text).toHaveLength(9_000);
    expect(JSON.stringify(c.state.timeline)).not.toContain('xxxxxxxxxx'); // stored once, in the note
  });

  test('customer emails reference the first email and the latest ones; the thread the case keeps is bounded', () => {
    const c = open();
    c.actAt(MIN, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
    for (let i = 0; i < 60; i++) c.actAt((2 + i) * MIN, { type: 'update', known: `k${i}`, nextUpdateAt: at(5 * HOUR) });
    const emails = c.sent.filter((m) => m.audience === 'customer');
    const first = emails[0].id;
    const last = emails.at(-1)!;
    expect(last.thread![0]).toBe(first);
    expect(last.thread!).toHaveLength(THREAD_REFERENCES + 1);
    expect(last.thread!.at(-1)).toBe(emails.at(-2)!.id);
    expect(c.state.customerThread.length).toBeLessThanOrEqual(THREAD_REFERENCES + 1);
  });
});

describe('deliveries', () => {
  test('recipients refused by the mail server are recorded with their reasons and the CSM is told on Slack', () => {
    const c = open();
    const m = c.sent.find((x) => x.channel === 'email')!;
    const r = recordDelivery(c.state, { id: m.id, status: 'sent', to: ['sam@vendor.example'], rejected: [{ address: 'lee@reject.test', reason: '550 No such user here' }] }, T0 + SEC);
    expect(r.state.messages.find((x) => x.id === m.id)).toMatchObject({ status: 'sent', reason: expect.stringContaining('lee@reject.test refused: 550 No such user here') });
    expect(r.effects.map((e) => [e.kind, e.channel, e.to, e.data.to])).toEqual([['delivery_failed', 'slack', ['csm'], ['lee@reject.test']]]);
  });

  test('an email sent but not confirmed (not sent again after its worker died) is recorded sent with the reason; the CSM is told to check', () => {
    const c = open();
    const m = c.sent.find((x) => x.channel === 'email')!;
    const r = recordDelivery(c.state, { id: m.id, status: 'sent', to: ['dana@acme.example'], reason: 'not confirmed: no answer', unconfirmed: true }, T0 + SEC);
    expect(r.state.messages.find((x) => x.id === m.id)).toMatchObject({ status: 'sent', reason: 'not confirmed: no answer' });
    expect(r.effects.map((e) => [e.kind, e.channel, e.to, e.data.unconfirmed, e.data.failedKind])).toEqual([['delivery_failed', 'slack', ['csm'], true, m.kind]]);
    expect(r.state.timeline.at(-1)).toMatchObject({ type: 'delivery_unconfirmed' });
    // A notice is never itself the subject of a notice; a confirmed send asks for none.
    const notice = r.state.messages.at(-1)!;
    expect(recordDelivery(r.state, { id: notice.id, status: 'sent', unconfirmed: true }, T0 + 2 * SEC).effects).toEqual([]);
    expect(recordDelivery(c.state, { id: m.id, status: 'sent', to: ['dana@acme.example'] }, T0 + SEC).effects).toEqual([]);
  });
});

test('a case closed from outside (Temporal UI or CLI) is closed with its reason and keeps no deadline', () => {
  const c = open();
  const r = closeFromOutside(c.state, 'Cancelled in Temporal (UI or CLI)', T0 + MIN);
  expect(r.state).toMatchObject({ status: 'closed', stage: 'closed', closeReason: 'Cancelled in Temporal (UI or CLI)', closedAt: at(MIN) });
  expect(nextWake(r.state)).toBeNull();
  expect(closeFromOutside(r.state, 'again', T0 + HOUR).state.closedAt).toBe(at(MIN));
});

test('every window is laid on the clock through the one seam (playbook/windows.ts)', () => {
  const dir = join(__dirname, '..', '..', 'playbook');
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'windows.ts' && f !== 'policy.ts')
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').map((line, i) => ({ f, i, line })))
    // A window added to a time by hand: `± durationMs(…)`, or a raw number of milliseconds (`now + 60_000`).
    .filter(({ line }) => /[+-]\s*durationMs\(|durationMs\([^)]*\)\s*[+-]|\+\s*\d+\s*\*\s*durationMs|\b(now|from|to|at|when|due\w*)\s*[+-]\s*\d[\d_]*\b/.test(line));
  expect(offenders).toEqual([]);
});

test('the case keeps the latest message records and every undelivered one; older delivered ones are counted', () => {
  const c = open();
  const first = c.sent[0];
  c.actAt(MIN, { type: 'acknowledge', nextUpdateAt: at(HOUR) });
  for (let i = 0; i < 250; i++) c.actAt((2 + i) * MIN, { type: 'update', known: `k${i}`, nextUpdateAt: at(10 * HOUR) });
  // Everything is still pending: nothing may be dropped.
  expect(c.state.messages.length).toBeGreaterThan(250);
  let s = c.state;
  for (const m of s.messages.filter((x) => x.id !== first.id)) s = recordDelivery(s, { id: m.id, status: 'sent' }, T0 + 300 * MIN).state;
  expect(s.messages.length).toBeLessThanOrEqual(200 + 1);
  expect(s.messages.map((m) => m.id)).toContain(first.id); // still pending
  expect(caseView(s).messagesOmitted + s.messages.length).toBe(c.state.messages.length);
  expect(s.messages.at(-1)!.id).toBe(c.state.messages.at(-1)!.id);
});
