/**
 * What a case has asked to send and what is still in flight: one message as an activity, or (rules 5)
 * a step's messages tried once locally with the activities as their fallback; the order Slack's thread
 * needs; the breaker while Slack is off; Slack's Retry-After; the root post's panel.
 *
 * No Temporal here: the sends come through an `OutboxPort` (workflows/sends.ts gives the workflow's),
 * so every rule of this class is tested with a fake port (test/unit/outbox.test.ts). The port starts
 * each send when it is called: the order of the calls is the order of the workflow's commands.
 */
import { ActivityFailure } from '@temporalio/common';
import type { DeliverInput, DeliveryResult, PanelInput, QueuedEvent, StepInput, StepResult } from '../activities/types';
import { messageCase, panelKey, recordDelivery, rulesOf, teamOf, type CaseState, type Outbound, type Transition } from '../playbook';
import { PATCHES, since, type PatchGate } from './patches';

/** How long posts skip Slack once the worker said it is off; the longest Retry-After heeded. */
const HOUR_MS = 3_600_000;

/** How a message goes out when it goes as an activity. */
export type Via = 'email' | 'slack' | 'slackRoot';

export interface OutboxPort {
  /** One message as an activity, with retries; `slackRoot` is the post that starts the thread (bounded). Not cancelled with the case. */
  send(via: Via, input: DeliverInput, summary: string): Promise<DeliveryResult>;
  /** Rules 5: a step's messages (and panel) tried once, locally. Rejects when the try itself failed or timed out. */
  tryStep(input: StepInput, summary: string): Promise<StepResult>;
  /** The root post's panel brought up to date: best effort. */
  refreshPanel(input: PanelInput, summary: string): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** The case the outbox sends for: read as it is now, and told what became of each message. */
export interface OutboxHost {
  readonly state: CaseState;
  commit(t: Transition): void;
  /** Something finished: the loop looks at the case again. */
  poke(): void;
}

/** What a failed local try left to heed before the activity's first attempt. */
interface After {
  retryAfterMs?: number;
}

export class Outbox {
  /** Messages asked for and not yet recorded, queued ones and panel updates included. */
  private inflight = 0;
  /** Slack: the first post starts the case's thread, so posts queue behind it until it exists. */
  private slackChain: Promise<void> = Promise.resolve();
  /** Rules 5: a step's local try is starting the thread; Slack posts of later steps queue behind it. */
  private rootInStep = false;
  /** When the worker said Slack is off, and until when posts skip the activity (PATCHES.slackOff). */
  private slackOff: { until: number; reason: string; team: string } | undefined;
  /** What the case's root post in Slack shows (panelKey), and whether an in-place update is under way. */
  private panelShown: string | undefined;
  private panelBusy = false;

  constructor(
    private readonly host: OutboxHost,
    private readonly port: OutboxPort,
    private readonly has: PatchGate,
  ) {}

  /** Nothing asked for is still on its way. */
  get idle(): boolean {
    return this.inflight === 0;
  }

  /**
   * What one step asked for. Rules 5: the messages that can go now (and the panel, if what it shows
   * changed) are tried once in one local activity, inside the step's workflow task: one marker in the
   * history. Whatever that try could not deliver goes on as the activities, with their retries.
   * Rules 6: a customer's email goes as its activity from the start, whose completion is recorded
   * the moment it is reported, not with the step's workflow task. Earlier rules: one activity per message.
   */
  deliverStep(ms: Outbound[], webhooks?: QueuedEvent[]): { carried: Promise<boolean> } | undefined {
    const state = this.host.state;
    const rules = rulesOf(state);
    if (!since(rules, 'stepTry')) return void ms.forEach((m) => this.deliver(m));
    const now: Outbound[] = [];
    for (const m of ms) {
      if (m.channel === 'slack' && (this.slackIsOff() || (!state.slackThreadTs && this.rootInStep))) this.deliver(m);
      else if (m.channel === 'email' && m.audience === 'customer' && since(rules, 'customerEmailsAlone')) this.deliver(m);
      else now.push(m);
    }
    // A step with nothing to send now may still carry its webhook events (and the panel): one try for both.
    if (now.length === 0 && !webhooks?.length) return undefined;
    this.inflight += now.length;
    const threadTs = state.slackThreadTs;
    const kase = messageCase(state);
    const key = panelKey(kase);
    const startsThread = !threadTs && now.some((m) => m.channel === 'slack');
    const panel = !!threadTs && !this.panelBusy && key !== this.panelShown;
    // The post that starts the thread shows the case as it is now, as does a refreshed panel.
    if (startsThread || panel) this.panelShown = key;
    if (panel) this.panelBusy = true;
    this.rootInStep ||= startsThread;
    // Named in the Temporal UI as its sends are one by one: each message, by which channel, to whom.
    const summary = `${now.map(sendSummary).join('; ')}${panel ? '; Slack panel' : ''}`;
    const carries = !!webhooks?.length;
    const step = this.port.tryStep({ caseId: state.id, case: kase, threadTs, messages: now, ...(panel ? { panel } : {}), ...(carries ? { webhooks } : {}) }, `${summary}${carries ? '; webhooks' : ''}`).then(
      (r) => r,
      () => undefined, // the try timed out, or its worker failed: every message goes on as its activity
    );
    const done = step.then((r) => {
      if (startsThread) this.rootInStep = false;
      if (panel) this.panelBusy = false;
      this.host.poke(); // look again: the case may have moved on during the try
      now.forEach((m, i) => {
        const o = r?.outcomes[i];
        if (o && 'result' in o) {
          this.recordResult(m, o.result);
          this.inflight--;
        } else if (o && 'failure' in o && o.failure.permanent) {
          this.host.commit(recordDelivery(this.host.state, { id: m.id, status: 'failed', reason: o.failure.message }, this.port.now()));
          this.inflight--;
        } else {
          // A retry can fix it, or it was not tried: the activity (counted again there).
          this.inflight--;
          this.deliver(m, o && 'failure' in o ? { retryAfterMs: o.failure.retryAfterMs } : {});
        }
      });
    });
    // Posts of later steps that need the thread wait for this try to start it.
    if (startsThread) this.slackChain = this.slackChain.then(() => done);
    // Whether the try handed the step's webhook events on (else the workflow does).
    return carries ? { carried: step.then((r) => r?.webhooks === 'queued') } : undefined;
  }

  /** The case's root post brought up to date when what it shows changed (one update at a time). */
  refreshPanel(): void {
    const state = this.host.state;
    const ts = state.slackThreadTs;
    if (this.panelBusy || !ts) return;
    const kase = messageCase(state);
    const key = panelKey(kase);
    if (key === this.panelShown || !this.has(PATCHES.slackPanel)) return;
    this.panelBusy = true;
    this.inflight++;
    this.panelShown = key;
    const summary = `Slack panel: ${kase.status === 'closed' ? 'closed' : `${kase.stage}${kase.paused ? ', paused' : ''}`}`;
    void this.port
      .refreshPanel({ caseId: state.id, case: kase, threadTs: ts }, summary)
      .catch(() => undefined) // best effort: the thread has every change; the next change tries again
      .finally(() => {
        this.panelBusy = false;
        this.inflight--;
        this.host.poke(); // look again: the case may have moved on while the post was being updated
      });
  }

  /** One message as an activity; `after`: what its failed local try (rules 5) left to heed. */
  private deliver(m: Outbound, after?: After): void {
    // Counted now, not when a post queued behind the thread's first one starts: closing and
    // continue-as-new wait for every message asked for, queued ones included.
    this.inflight++;
    if (m.channel === 'email') return void this.record(m, 'email', after);
    if (!this.has(PATCHES.slackReplies)) {
      this.slackChain = this.slackChain.then(() => this.record(m, 'slack'));
      return;
    }
    if (this.host.state.slackThreadTs) return void this.record(m, 'slack', after);
    this.slackChain = this.slackChain.then(() => this.record(m, this.host.state.slackThreadTs ? 'slack' : 'slackRoot', after));
  }

  /**
   * Sends one message as an activity and records the result; `inflight` was counted when the case
   * asked for it. After a failed local try (rules 5), a Slack post looks for itself first and Slack's
   * Retry-After is waited out before the first attempt.
   */
  private async record(m: Outbound, via: Via, after?: After): Promise<void> {
    try {
      if (m.channel === 'slack' && this.slackIsOff() && this.has(PATCHES.slackOff)) {
        this.host.commit(recordDelivery(this.host.state, { id: m.id, status: 'skipped', to: [], reason: this.slackOff!.reason }, this.port.now()));
        return;
      }
      if (after?.retryAfterMs) await this.port.sleep(Math.min(after.retryAfterMs, HOUR_MS));
      const state = this.host.state;
      const input: DeliverInput = { caseId: state.id, message: m, case: messageCase(state), threadTs: state.slackThreadTs, ...(after ? { lookFirst: true } : {}) };
      // The post that starts the thread shows the case as it is now: its panel needs no update until it changes.
      if (m.channel === 'slack' && !state.slackThreadTs) this.panelShown = panelKey(input.case);
      // Sends are not cancelled with the case: what it asked for is delivered and recorded.
      this.recordResult(m, await this.port.send(via, input, sendSummary(m))); // the case read after the send completes
    } catch (err) {
      this.host.commit(recordDelivery(this.host.state, { id: m.id, status: 'failed', reason: failureReason(err) }, this.port.now()));
    } finally {
      this.inflight--;
    }
  }

  /** Records what became of a send: the thread it started, Slack found off, the message's status. */
  private recordResult(m: Outbound, result: DeliveryResult): void {
    if (m.channel === 'slack' && result.status === 'skipped' && result.off) this.slackOff = { until: this.port.now() + HOUR_MS, reason: result.reason ?? 'Slack is off', team: teamOf(this.host.state) };
    this.host.commit(recordDelivery(this.host.state, { id: m.id, ...result }, this.port.now()));
  }

  /** Slack said off for the case's team (a team without a channel): a case transferred to another team tries again. */
  private slackIsOff(): boolean {
    return !!this.slackOff && this.slackOff.until > this.port.now() && this.slackOff.team === teamOf(this.host.state);
  }
}

/** A send as the Temporal UI names it: which message, by which channel, to whom. */
function sendSummary(m: Outbound): string {
  return `${m.channel === 'email' ? 'Email' : 'Slack'} ${m.kind.replace(/_/g, ' ')} (${m.id}) to ${m.audience === 'customer' ? 'the customer' : m.to.join(', ')}`;
}

function failureReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}
