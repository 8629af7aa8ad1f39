/**
 * The outbox's rules without a Temporal server: a fake port whose sends the test completes by hand,
 * so the order of calls (the order of the workflow's commands) and what is recorded are seen exactly.
 */
import type { DeliverInput, DeliveryResult, PanelInput, StepInput, StepResult } from '../../activities/types';
import { DEFAULT_POLICY, act, openCase, type CaseState, type Outbound, type Transition } from '../../playbook';
import { Outbox, type OutboxPort, type Via } from '../../workflows/outbox';
import type { Patch } from '../../workflows/patches';
import { caseInput } from '../helpers/fixtures';

const T0 = Date.parse('2026-12-01T09:00:00Z');

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
/** Lets every pending promise reaction run. */
const settle = () => new Promise((r) => setImmediate(r));

/** A port whose every call waits for the test to answer it. */
function fakePort() {
  const calls: ({ kind: 'send'; via: Via; input: DeliverInput; d: Deferred<DeliveryResult> } | { kind: 'step'; input: StepInput; d: Deferred<StepResult> } | { kind: 'panel'; input: PanelInput; d: Deferred<void> } | { kind: 'sleep'; ms: number; d: Deferred<void> })[] = [];
  let now = T0;
  const port: OutboxPort = {
    send(via, input) {
      const d = deferred<DeliveryResult>();
      calls.push({ kind: 'send', via, input, d });
      return d.promise;
    },
    tryStep(input) {
      const d = deferred<StepResult>();
      calls.push({ kind: 'step', input, d });
      return d.promise;
    },
    refreshPanel(input) {
      const d = deferred<void>();
      calls.push({ kind: 'panel', input, d });
      return d.promise;
    },
    sleep(ms) {
      const d = deferred<void>();
      calls.push({ kind: 'sleep', ms, d });
      return d.promise;
    },
    now: () => now,
  };
  return { port, calls, advance: (ms: number) => (now += ms) };
}

/** A case that the outbox sends for, recording each transition as the runner does. */
function host(rulesVersion: number) {
  const opened = openCase({ id: 'acme-1', input: caseInput(), policy: DEFAULT_POLICY, now: T0, rulesVersion });
  const h = {
    state: opened.state as CaseState,
    effects: [] as Outbound[],
    pokes: 0,
    commit(t: Transition) {
      h.state = t.state;
      h.effects.push(...t.effects);
    },
    poke() {
      h.pokes++;
    },
  };
  return { h, opening: opened.effects };
}

const everyPatch = (_: Patch) => true;

/** A case of these rules, a fake port and the outbox between them. */
function rig(rulesVersion: number, has: (p: Patch) => boolean = everyPatch) {
  const { h, opening } = host(rulesVersion);
  const fake = fakePort();
  return { h, opening, ...fake, outbox: new Outbox(h, fake.port, has) };
}
const status = (s: CaseState, id: string) => s.messages.find((m) => m.id === id)?.status;
const sent = (i: DeliverInput): DeliveryResult => (i.message.channel === 'slack' ? { status: 'sent', to: i.message.to, threadTs: i.threadTs ?? '1700.1' } : { status: 'sent', to: ['dana@acme.example'] });

describe('before rules 5: one activity per message', () => {
  test('Slack posts wait for the post that starts the thread, then go out side by side; emails never wait', async () => {
    const { h, opening, calls, outbox } = rig(4);
    outbox.deliverStep(opening);
    const slack = opening.filter((m) => m.channel === 'slack');
    expect(slack.length).toBeGreaterThan(0);
    // More Slack posts asked for before the thread exists: they queue behind the first.
    h.commit(act(h.state, { type: 'note', text: 'looking' }, T0 + 1000));
    outbox.deliverStep([{ ...slack[0], id: 'extra-1' }, { ...slack[0], id: 'extra-2' }]);
    await settle();
    const sends = () => calls.filter((c) => c.kind === 'send') as Extract<(typeof calls)[number], { kind: 'send' }>[];
    expect(sends().map((c) => c.via)).toEqual([...opening.filter((m) => m.channel === 'email').map(() => 'email'), 'slackRoot']);
    expect(outbox.idle).toBe(false);
    const root = sends().find((c) => c.via === 'slackRoot')!;
    root.d.resolve({ status: 'sent', to: ['#esc'], threadTs: '1700.1' });
    await settle();
    expect(h.state.slackThreadTs).toBe('1700.1');
    // The queued ones go to the thread, one after another (each behind the one before it), as plain posts.
    const after = sends().slice(opening.length);
    expect(after.map((c) => [c.via, c.input.message.id, c.input.threadTs])).toEqual([['slack', 'extra-1', '1700.1']]);
    after[0].d.resolve(sent(after[0].input));
    await settle();
    expect(sends().at(-1)!.input.message.id).toBe('extra-2');
    // Once the thread exists a post goes out at once, beside any other.
    outbox.deliverStep([{ ...slack[0], id: 'extra-3' }]);
    expect(sends().at(-1)!.input.message.id).toBe('extra-3');
    for (const c of sends()) c.d.resolve(sent(c.input));
    await settle();
    expect(outbox.idle).toBe(true);
    for (const m of opening) expect(status(h.state, m.id)).toBe('sent');
  });

  test('a send that fails after its retries is recorded failed, with the reason, and asks for a notice by the other channel', async () => {
    const { h, opening, calls, outbox } = rig(4);
    const email = opening.find((m) => m.channel === 'email')!;
    outbox.deliverStep([email]);
    (calls[0] as { d: Deferred<DeliveryResult> }).d.reject(new Error('550 mailbox unavailable'));
    await settle();
    expect(h.state.messages.find((m) => m.id === email.id)).toMatchObject({ status: 'failed', reason: '550 mailbox unavailable' });
    expect(h.effects.map((e) => [e.kind, e.channel])).toEqual([['delivery_failed', 'slack']]);
    expect(outbox.idle).toBe(true);
  });
});

describe('rules 5: a step is tried once locally, the activities are its fallback', () => {
  test('what the try delivered is recorded; a permanent failure is recorded failed without an activity; the rest goes on as activities', async () => {
    const { h, opening, calls, outbox } = rig(5);
    const slack = opening.find((m) => m.channel === 'slack')!;
    const messages = [...opening, { ...slack, id: 'later-1' }, { ...slack, id: 'later-2' }];
    outbox.deliverStep(messages);
    expect(calls.map((c) => c.kind)).toEqual(['step']);
    const step = calls[0] as Extract<(typeof calls)[number], { kind: 'step' }>;
    expect(step.input.messages.map((m) => m.id)).toEqual(messages.map((m) => m.id));
    expect(step.input.panel).toBeUndefined(); // no thread yet: nothing to refresh
    const [first, second, ...rest] = messages;
    step.d.resolve({
      outcomes: [
        { result: { status: 'sent', to: ['x@example.test'] } },
        { failure: { message: 'bad address', permanent: true } },
        ...rest.map((_, i) => (i === 0 ? { failure: { message: 'Slack 429', permanent: false, retryAfterMs: 30_000 } } : { untried: 'thread not started' })),
      ],
    });
    await settle();
    expect(status(h.state, first.id)).toBe('sent');
    expect(h.state.messages.find((m) => m.id === second.id)).toMatchObject({ status: 'failed', reason: 'bad address' });
    expect(h.pokes).toBeGreaterThan(0);
    // The retryable one waits out Slack's Retry-After, then goes as an activity that looks for itself first.
    expect(rest.length).toBeGreaterThan(0);
    {
      const sleep = calls.find((c) => c.kind === 'sleep') as { ms: number; d: Deferred<void> } | undefined;
      expect(sleep?.ms).toBe(30_000);
      sleep!.d.resolve();
      await settle();
      // The first of them starts the thread; the other queues behind it, and both look for themselves first.
      const sends = () => calls.filter((c) => c.kind === 'send') as Extract<(typeof calls)[number], { kind: 'send' }>[];
      expect(sends().map((c) => [c.via, c.input.message.id])).toEqual([['slackRoot', rest[0].id]]);
      sends()[0].d.resolve({ status: 'sent', to: ['#esc'], threadTs: '1700.5' });
      await settle();
      expect(sends().map((c) => [c.via, c.input.message.id, c.input.threadTs])).toEqual([['slackRoot', rest[0].id, null], ['slack', rest[1].id, '1700.5']]);
      expect(sends().every((c) => c.input.lookFirst === true)).toBe(true);
      sends()[1].d.resolve(sent(sends()[1].input));
      await settle();
    }
    expect(outbox.idle).toBe(true);
  });

  test('a try that times out sends every message of the step as its activity', async () => {
    const { opening, calls, outbox } = rig(5);
    outbox.deliverStep(opening);
    (calls[0] as { d: Deferred<StepResult> }).d.reject(new Error('local activity timed out'));
    await settle();
    const sends = calls.filter((c) => c.kind === 'send') as Extract<(typeof calls)[number], { kind: 'send' }>[];
    // Emails at once; the thread's first post alone (the rest queue behind it).
    expect(sends.map((c) => c.input.message.id).sort()).toEqual(opening.filter((m) => m.channel === 'email' || m === opening.find((x) => x.channel === 'slack')).map((m) => m.id).sort());
    expect(outbox.idle).toBe(false);
  });

  test('while the step that starts the thread is being tried, Slack posts of later steps queue behind it', async () => {
    const { opening, calls, outbox } = rig(5);
    outbox.deliverStep(opening);
    const slack = opening.find((m) => m.channel === 'slack')!;
    outbox.deliverStep([{ ...slack, id: 'later' }]);
    await settle();
    expect(calls.map((c) => c.kind)).toEqual(['step']); // nothing else started
    const step = calls[0] as Extract<(typeof calls)[number], { kind: 'step' }>;
    step.d.resolve({ outcomes: step.input.messages.map((m) => ({ result: m.channel === 'slack' ? { status: 'sent' as const, to: m.to, threadTs: '1700.9' } : { status: 'sent' as const, to: ['d@x'] } })) });
    await settle();
    const later = calls.find((c) => c.kind === 'send') as Extract<(typeof calls)[number], { kind: 'send' }>;
    expect([later.via, later.input.message.id, later.input.threadTs]).toEqual(['slack', 'later', '1700.9']);
  });
});

describe('rules 6: a customer\'s email goes as its activity, never in the step\'s local try', () => {
  test('the acknowledgement goes as an activity beside the step\'s try of the rest; under rules 5 it was in the try', async () => {
    for (const rules of [5, 6]) {
      const { h, calls, outbox } = rig(rules);
      h.commit({ state: { ...h.state, slackThreadTs: '1700.1' }, effects: [], warnings: [] });
      const t = act(h.state, { type: 'acknowledge', note: 'On it', nextUpdateAt: new Date(T0 + 3_600_000).toISOString() }, T0 + 60_000);
      h.commit(t);
      const email = t.effects.find((m) => m.channel === 'email')!;
      expect(email.audience).toBe('customer');
      const internal = { ...email, id: 'internal-1', audience: 'internal' as const, kind: 'reminder' as const, to: ['supportLead' as const] };
      outbox.deliverStep([...t.effects, internal]);
      const step = calls.find((c) => c.kind === 'step') as Extract<(typeof calls)[number], { kind: 'step' }>;
      const sends = calls.filter((c) => c.kind === 'send') as Extract<(typeof calls)[number], { kind: 'send' }>[];
      if (rules === 5) {
        expect(step.input.messages.map((m) => m.id)).toEqual([email.id, 'internal-1']);
        expect(sends).toHaveLength(0);
        continue;
      }
      // The customer's email: its own activity, started before the step's try (the order of the commands).
      expect(calls.map((c) => c.kind)).toEqual(['send', 'step']);
      expect([sends[0].via, sends[0].input.message.id, sends[0].input.lookFirst]).toEqual(['email', email.id, undefined]);
      // The internal email and the panel stay in the try.
      expect(step.input.messages.map((m) => m.id)).toEqual(['internal-1']);
      expect(step.input.panel).toBe(true);
      sends[0].d.resolve({ status: 'sent', to: ['dana@acme.example'] });
      await settle();
      expect(status(h.state, email.id)).toBe('sent');
      expect(outbox.idle).toBe(false); // the try is still out
      step.d.resolve({ outcomes: [{ result: { status: 'sent', to: ['lee@vendor.example'] } }] });
      await settle();
      expect(outbox.idle).toBe(true);
    }
  });
});

describe('Slack off', () => {
  test('once the worker says Slack is off, posts are recorded skipped without an activity for an hour, then tried again', async () => {
    const { h, opening, calls, advance, outbox } = rig(4);
    const slack = opening.find((m) => m.channel === 'slack')!;
    outbox.deliverStep([slack]);
    await settle(); // no thread yet: the post goes behind the (empty) queue for the thread's first post
    const first = calls[0] as Extract<(typeof calls)[number], { kind: 'send' }>;
    first.d.resolve({ status: 'skipped', to: [], reason: 'no SLACK_BOT_TOKEN', off: true });
    await settle();
    h.commit({ state: { ...h.state, slackThreadTs: '1700.1' }, effects: [], warnings: [] });
    outbox.deliverStep([{ ...slack, id: 'm-off' }]);
    await settle();
    expect(calls).toHaveLength(1);
    expect(h.state.messages.find((m) => m.id === 'm-off')).toBeUndefined(); // not a record of this case: nothing to mark
    // A message the case knows is marked skipped with the reason.
    const known = h.state.messages.find((m) => m.channel === 'slack')!;
    h.commit({ state: { ...h.state, messages: h.state.messages.map((m) => (m.id === known.id ? { ...m, status: 'pending' as const } : m)) }, effects: [], warnings: [] });
    outbox.deliverStep([slack]);
    await settle();
    expect(calls).toHaveLength(1);
    expect(h.state.messages.find((m) => m.id === known.id)).toMatchObject({ status: 'skipped', reason: 'no SLACK_BOT_TOKEN' });
    advance(3_600_001);
    outbox.deliverStep([slack]);
    expect(calls).toHaveLength(2);
  });

  test('without the Slack-off patch every post is still tried', async () => {
    const { opening, calls, outbox } = rig(4, (p) => p !== 'no-slack-activity-while-slack-is-off');
    const slack = opening.find((m) => m.channel === 'slack')!;
    outbox.deliverStep([slack]);
    await settle();
    (calls[0] as { d: Deferred<DeliveryResult> }).d.resolve({ status: 'skipped', to: [], reason: 'off', off: true });
    await settle();
    outbox.deliverStep([slack]);
    await settle();
    expect(calls.filter((c) => c.kind === 'send')).toHaveLength(2);
  });
});

describe('the Slack panel', () => {
  test('is refreshed only when what it shows changed, one update at a time, and only once the thread exists', async () => {
    const { h, calls, outbox } = rig(5);
    outbox.refreshPanel();
    expect(calls).toHaveLength(0); // no thread
    h.commit({ state: { ...h.state, slackThreadTs: '1700.1' }, effects: [], warnings: [] });
    outbox.refreshPanel();
    outbox.refreshPanel();
    expect(calls.map((c) => c.kind)).toEqual(['panel']);
    (calls[0] as { d: Deferred<void> }).d.reject(new Error('Slack 500')); // best effort
    await settle();
    expect(outbox.idle).toBe(true);
    outbox.refreshPanel();
    expect(calls).toHaveLength(1); // the same panel: nothing to do
    h.commit(act(h.state, { type: 'acknowledge', note: 'On it', nextUpdateAt: new Date(T0 + 3_600_000).toISOString() }, T0 + 60_000));
    outbox.refreshPanel();
    expect(calls).toHaveLength(2);
    expect((calls[1] as { input: PanelInput }).input.case.stage).toBe('investigate');
  });
});
