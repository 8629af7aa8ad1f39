/**
 * What a case is: its input, its state, the actions people take on it, and the draft a transition
 * writes into. No I/O and no clock of its own.
 */
import type { Policy } from './policy';
import type { Role, Severity } from './severity';
import type { InternalTrigger } from './routing';
import type { Category } from './triggers';
import type { LintFinding } from './lint';
import type { Outbound, TemplateId } from './messages';
import type { Party } from './severity';
import { DEFAULT_LIMITS, type Limits } from './limits';
import type { Calendar } from './calendar';
import { truncate } from './format';

export const STAGES = ['acknowledge', 'investigate', 'communicate', 'resolve', 'follow_up', 'recovery', 'closed'] as const;
export type Stage = (typeof STAGES)[number];
export const TASK_KINDS = ['follow_up', 'recovery_call', 'health_check', 'qbr_review'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const NOTE_KINDS = ['investigation', 'root_cause', 'workaround'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];
export const SEGMENTS = ['smb', 'mid-market', 'enterprise'] as const;
export type Segment = (typeof SEGMENTS)[number];
export const SEGMENT_LABELS: Readonly<Record<Segment, string>> = { smb: 'SMB', 'mid-market': 'Mid-Market', enterprise: 'Enterprise' };

/**
 * The rules a case runs by. A case keeps the version it was opened with (cases opened before versions
 * existed are 1); a rule change branches on it, so running cases replay and keep their behaviour.
 * 2: overdue timer points are handled before an action lands (a late action is a breach); the stored
 *    case is bounded (pruned timer keys, capped thread references, short timeline summaries).
 * 3: the playbook's decisions of 2; the workflow runs every change made behind `patched()` until then
 *    (PATCHES in workflows/patches.ts) without writing a marker for each, so a new case's history
 *    and visibility carry no patch bookkeeping.
 * 4: the case keeps the calendar it opened with and counts the policy's business windows in it.
 *    (Pausing and customer replies are new actions: no earlier history holds one, so every case takes them.)
 * 5: the playbook's decisions of 4; the workflow tries each send first as a local activity (inside the
 *    step's workflow task) and runs every patch without a marker (workflows/patches.ts).
 * 6: the playbook's decisions of 5; a customer's emails go as activities, never in the step's local
 *    try, so a worker that dies after the mail server took one does not have it sent again
 *    (SINCE_RULES in workflows/patches.ts).
 * 7: the playbook's decisions of 6; the case numbers its changes as webhook events and hands them to the
 *    endpoints' streams, with a step's sends when it has them (workflows/webhooks.ts). Cases of earlier
 *    rules send no webhooks: their histories stay as they ran.
 * 8: the playbook's decisions of 7; the workflow acts on the clock only in a workflow task its timer
 *    or an action started, so a wake-up already due waits for its timer rather than acting when a
 *    local activity's result woke the loop (SINCE_RULES.clockOnCause in workflows/patches.ts).
 */
export const RULES_VERSION = 8;

export interface CaseInput {
  customer: {
    id: string;
    name: string;
    segment: Segment;
    arr: number;
    healthScore: number;
    renewalDate?: string;
    nextQbrDate?: string;
  };
  contact: { name: string; email: string; timezone?: string };
  csm: { name: string; email: string; timezone?: string };
  severity: Severity;
  category: Category;
  trigger: string;
  title: string;
  impact: string;
  description?: string;
  neededBy?: string;
  workaround?: string;
  flags?: { executiveInvolved?: boolean; churnThreat?: boolean };
}

export const DEADLINE_KINDS = ['acknowledge', 'respond', 'next_update', 'resolve', 'confirmation', 'follow_up', 'recovery_call', 'health_check', 'qbr_review', 'outcome'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/** Why the customer-facing clocks stop. */
export const PAUSE_REASONS = ['waiting_on_customer', 'waiting_on_third_party'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];
/** The clocks a pause stops: those the customer sees. The acknowledge clock and internal ones keep running. */
export const PAUSABLE: readonly DeadlineKind[] = ['respond', 'next_update', 'resolve'];
export interface Pause { since: string; reason: PauseReason; until?: string; note?: string; by?: string }
/** A pause that ended: every clock it held moved on by its length. */
export interface PauseSpan { from: string; to: string }
/** A customer's email reply: its new text, quoted history and signature removed. */
export interface Reply { at: string; from: string; text: string; subject?: string; messageId?: string }

export interface Breach { kind: DeadlineKind; dueAt: string; at: string }
export interface InternalEscalation { trigger: InternalTrigger; to: Role[]; at: string; note: string; ask?: string; by?: string }
export interface Task { kind: TaskKind; dueAt: string; doneAt?: string; notes?: string; by?: string }
export interface TimelineEntry { at: string; type: string; actor?: string; summary: string }
export interface Note { at: string; kind: NoteKind; text: string; by?: string }
export type MessageStatus = 'pending' | 'sent' | 'skipped' | 'failed';
export interface MessageRecord {
  id: string;
  kind: Outbound['kind'];
  channel: Outbound['channel'];
  to: string[];
  subject?: string;
  at: string;
  status: MessageStatus;
  reason?: string;
}

export interface CaseState {
  id: string;
  /** Absent on cases opened before rules were versioned: those run by version 1. */
  rulesVersion?: number;
  input: CaseInput;
  policy: Policy;
  /** Absent on cases opened before limits existed: the defaults apply. */
  limits?: Limits;
  severity: Severity;
  stage: Stage;
  status: 'open' | 'closed';
  openedAt: string;
  acknowledgedAt: string | null;
  firstResponseAt: string | null;
  lastUpdateAt: string | null;
  promisedUpdateAt: string | null;
  resolvedAt: string | null;
  confirmedAt: string | null;
  closedAt: string | null;
  closeReason: string | null;
  resolution: { rootCause: string; fix: string; prevention: string } | null;
  updates: number;
  reopens: number;
  apologies: number;
  breaches: Breach[];
  /** Keys of the timer points already handled, so each warning, breach and reminder happens once. */
  fired: string[];
  internalEscalations: InternalEscalation[];
  messages: MessageRecord[];
  tasks: Task[];
  timeline: TimelineEntry[];
  notes: Note[];
  csat: { score: number; comment?: string; at: string } | null;
  outcome: { churned: boolean; note?: string; at: string } | null;
  /** Ids of the customer emails sent so far: they thread every later one. */
  customerThread: string[];
  /** The Slack thread of the case, once its first post went out. */
  slackThreadTs: string | null;
  seq: number;
  /** Rules 2: delivered message records dropped from `messages` (oldest first) to keep the case bounded. */
  messagesOmitted?: number;
  /** Rules 4: the calendar the case opened with (its definition, so a changed config leaves it be), or null. */
  calendar?: Calendar | null;
  /** The pause in force, if any. */
  pause?: Pause | null;
  /** Pauses that ended, oldest first (at most MAX_PAUSES). */
  pauses?: PauseSpan[];
  /** Customer replies received by email, oldest first. */
  replies?: Reply[];
  /** The team the case belongs to; absent on cases opened before teams: DEFAULT_TEAM. */
  team?: string;
  /** Teams the case was transferred away from, oldest first: they keep read access (at most MAX_TEAMS_BEFORE). */
  formerTeams?: string[];
  /** The Slack threads the case had in the channels of teams it left (the latest MAX_TEAMS_BEFORE). */
  earlierThreads?: EarlierThread[];
  /** Which status link is the case's (each rotation makes the earlier ones answer 410); absent: the first, 0. */
  statusLinkGen?: number;
  /** What the customer was last told about the issue, and when (the status page shows it). */
  lastToCustomer?: { at: string; text: string };
  /** The sequence number of the case's latest webhook event (playbook/webhooks.ts); absent: none yet. */
  eventSeq?: number;
}

/** The team of a case that names none (every case opened before teams, every case of a config without teams). */
export const DEFAULT_TEAM = 'default';
/** A team's id: 1 to 40 of a-z, 0-9 and -. */
export const TEAM_ID_PATTERN = /^[a-z0-9-]{1,40}$/;
/** Teams a case remembers having left (each keeps read access): a case is passed on a few times at most. */
export const MAX_TEAMS_BEFORE = 10;
export interface EarlierThread { team: string; ts: string }

export const teamOf = (state: Pick<CaseState, 'team'>): string => state.team ?? DEFAULT_TEAM;


export type ErrorCode = 'conflict' | 'lint' | 'invalid' | 'limit';

/** An action the playbook refuses: `conflict` → 409, `lint` → 422, `invalid` → 400, `limit` → 422 limit_reached. */
export class PlaybookError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'PlaybookError';
  }
}

export interface Transition {
  state: CaseState;
  effects: Outbound[];
  warnings: LintFinding[];
}

export const t = (iso: string) => Date.parse(iso);
export const iso = (ms: number) => new Date(ms).toISOString();

export const rulesOf = (state: CaseState) => state.rulesVersion ?? 1;
export const limitsOf = (state: CaseState): Limits => state.limits ?? DEFAULT_LIMITS;

export function task(state: CaseState, kind: TaskKind): Task | undefined {
  return state.tasks.find((x) => x.kind === kind);
}

function clone(state: CaseState): CaseState {
  return JSON.parse(JSON.stringify(state)) as CaseState;
}

/** Timeline summaries are one short line: the full text lives in the note, the email or the field it came from. */
export const SUMMARY_CHARS = 200;
const short = (s: string) => truncate(s, SUMMARY_CHARS);

/**
 * Message records a case keeps (rules 2): the latest ones; older delivered ones are counted, not kept
 * (every message itself is in the mail server or the outbox, and in the Slack thread). Pending and
 * failed ones are always kept.
 */
export const MESSAGE_RECORDS = 200;

/** Customer emails reference the first email of the thread and the latest ones, not every one (RFC 5322 §3.6.4). */
export const THREAD_REFERENCES = 20;

/** A transition being written: a copy of the case, the messages it asks for, the lint warnings. */
export class Draft {
  readonly s: CaseState;
  readonly effects: Outbound[] = [];
  readonly warnings: LintFinding[] = [];
  constructor(
    prev: CaseState,
    readonly now: number,
  ) {
    this.s = clone(prev);
  }

  get at(): string {
    return iso(this.now);
  }

  log(type: string, summary: string, actor?: string): void {
    const text = rulesOf(this.s) >= 2 ? short(summary) : summary;
    this.s.timeline.push({ at: this.at, type, summary: text, ...(actor ? { actor } : {}) });
  }

  send(kind: Outbound['kind'], template: TemplateId, to: Party[], data: Record<string, unknown>, channels: Outbound['channel'][]): void {
    const recipients = [...new Set(to)];
    if (recipients.length === 0) return;
    for (const channel of channels) {
      const id = `m${++this.s.seq}`;
      const customer = recipients.includes('contact');
      const out: Outbound = { id, kind, channel, template, to: recipients, data, audience: customer ? 'customer' : 'internal' };
      if (customer && channel === 'email') {
        out.thread = [...this.s.customerThread];
        this.s.customerThread.push(id);
        const thread = this.s.customerThread;
        if (rulesOf(this.s) >= 2 && thread.length > THREAD_REFERENCES + 1) thread.splice(1, thread.length - THREAD_REFERENCES - 1);
      }
      this.effects.push(out);
      this.s.messages.push({ id, kind, channel, to: recipients, at: this.at, status: 'pending' });
    }
  }

  /** An internal alert: by email and in the case's Slack thread. */
  alert(kind: Outbound['kind'], template: TemplateId, to: Party[], data: Record<string, unknown>): void {
    this.send(kind, template, to, data, ['email', 'slack']);
  }

  done(): Transition {
    if (rulesOf(this.s) >= 2 && this.s.messages.length > MESSAGE_RECORDS) {
      let excess = this.s.messages.length - MESSAGE_RECORDS;
      const kept = this.s.messages.filter((m) => {
        if (excess > 0 && (m.status === 'sent' || m.status === 'skipped')) {
          excess--;
          return false;
        }
        return true;
      });
      this.s.messagesOmitted = (this.s.messagesOmitted ?? 0) + (this.s.messages.length - kept.length);
      this.s.messages = kept;
    }
    return { state: this.s, effects: this.effects, warnings: this.warnings };
  }
}
