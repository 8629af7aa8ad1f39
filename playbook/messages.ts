import type { Party } from './severity';

/** What a case says, to whom and how. Recipients are parties, resolved to people at send time. */
export const CUSTOMER_KINDS = ['acknowledgement', 'progress_update', 'resolution', 'follow_up'] as const;
export const INTERNAL_KINDS = [
  'case_opened',
  'internal_escalation',
  'severity_changed',
  'deadline_warning',
  'breach',
  'reminder',
  'reopened',
  'delivery_failed',
  'customer_reply',
  'transferred',
] as const;
export type MessageKind = (typeof CUSTOMER_KINDS)[number] | (typeof INTERNAL_KINDS)[number];

export const TEMPLATE_IDS = [
  'acknowledgement',
  'progress_update',
  'resolution',
  'follow_up',
  'escalation_support',
  'escalation_leadership',
  'deadline_warning',
  'breach_alert',
  'reminder',
  'reopened',
  'delivery_failed',
  'customer_reply',
  'transferred',
] as const;
export type TemplateId = (typeof TEMPLATE_IDS)[number];

export type Channel = 'email' | 'slack';

export interface Outbound {
  /** Unique within the case (`m1`, `m2`, …): with the case id it makes the deterministic Message-ID. */
  id: string;
  kind: MessageKind;
  channel: Channel;
  audience: 'customer' | 'internal';
  template: TemplateId;
  to: Party[];
  data: Record<string, unknown>;
  /** For customer emails: the ids of the earlier emails of the thread, oldest first. */
  thread?: string[];
}
