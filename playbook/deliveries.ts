/**
 * Delivery results, reported back by the workflow: each message's status, the Slack thread, and the
 * CSM told on the other channel when a message (or some of its recipients) could not be reached, or
 * may not have been.
 */
import { Draft, type CaseState, type MessageStatus, type Transition } from './state';

export interface DeliveryReport {
  id: string;
  status: MessageStatus;
  to?: string[];
  subject?: string;
  reason?: string;
  threadTs?: string;
  /** Recipients the mail server refused while it took the others. */
  rejected?: { address: string; reason: string }[];
  /**
   * Sent, but the mail server's answer was never heard: the worker sending it died after the point
   * where the server may keep it, and it was not sent again so that nobody receives it twice.
   */
  unconfirmed?: boolean;
}

export function recordDelivery(prev: CaseState, r: DeliveryReport, now: number): Transition {
  const d = new Draft(prev, now);
  // A post that started in a thread the case left behind (a transfer while it was out) does not bring it back.
  if (r.threadTs && !d.s.slackThreadTs && !d.s.earlierThreads?.some((x) => x.ts === r.threadTs)) d.s.slackThreadTs = r.threadTs;
  const m = d.s.messages.find((x) => x.id === r.id);
  if (!m) return d.done();
  m.status = r.status;
  if (r.to && r.to.length > 0) m.to = r.to;
  if (r.subject) m.subject = r.subject;
  const rejected = r.rejected ?? [];
  const refused = rejected.map((x) => `${x.address} refused: ${x.reason}`).join('; ');
  const reason = [r.reason, refused].filter(Boolean).join('; ');
  if (reason) m.reason = reason;
  if ((r.status === 'failed' || rejected.length > 0) && m.kind !== 'delivery_failed') {
    const what = r.status === 'failed' ? 'failed' : `reached only some recipients`;
    d.log('delivery_failed', `${m.kind} by ${m.channel} ${what}: ${reason || 'unknown reason'}`);
    const other = m.channel === 'email' ? 'slack' : 'email';
    const to = r.status === 'failed' ? m.to : rejected.map((x) => x.address);
    d.send('delivery_failed', 'delivery_failed', ['csm'], { failedKind: m.kind, channel: m.channel, to, reason: reason || null }, [other]);
  } else if (r.unconfirmed && m.kind !== 'delivery_failed') {
    // Not sent twice; maybe not received at all: the CSM checks with the customer.
    d.log('delivery_unconfirmed', `${m.kind} by ${m.channel} not confirmed: ${reason || 'no answer from the server'}`);
    const other = m.channel === 'email' ? 'slack' : 'email';
    d.send('delivery_failed', 'delivery_failed', ['csm'], { failedKind: m.kind, channel: m.channel, to: m.to, reason: reason || null, unconfirmed: true }, [other]);
  }
  return d.done();
}
