/**
 * What one case may hold. Every limit is enforced before an action reaches the workflow (the API and
 * the workflow's update validators check the same numbers), so a case is never accepted into a size
 * that Temporal would kill it for. The README's "Limits" section gives the budget they keep.
 */
import type { CaseState } from './state';

export interface Limits {
  /** Notes in the investigation log. */
  notes: number;
  /** Progress updates sent to the customer. */
  updates: number;
  /** Entries on the timeline, whoever wrote them (people's actions are refused past it). */
  timeline: number;
  /** Characters of free text the case stores: notes, internal escalation notes and asks, task notes, comments. */
  storedTextChars: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  notes: 400,
  updates: 400,
  timeline: 1_000,
  storedTextChars: 60_000,
};

/** Longest accepted free text per field kind (characters); longer → 400 naming the field. */
export const TEXT_LIMITS = {
  /** Names, ids, titles, triggers: one line. */
  line: 200,
  /** Reasons, asks, the ETA. */
  short: 2_000,
  /** Update fields, resolution fields, comments, internal escalation notes. */
  long: 4_000,
  /** A note in the investigation log. */
  note: 10_000,
  /** The description given at open. */
  description: 10_000,
} as const;

/** Pauses a case may take (each ended one is kept to move its deadlines); more → 422 limit_reached. */
export const MAX_PAUSES = 100;

/** Characters of a customer reply kept on the case (the rest is in the mailbox it came from). */
export const REPLY_CHARS = 4_000;

/** The request body the API accepts (bytes); larger → 413. A raw email to /inbound/email may be larger. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** Entries on the case's timeline as the view shows it (under rules 2 the notes are merged in, not stored twice). */
export function timelineLength(state: CaseState): number {
  return state.timeline.length + ((state.rulesVersion ?? 1) >= 2 ? state.notes.length : 0);
}

/** Characters of free text a case stores today (what `storedTextChars` counts). */
export function storedTextChars(state: CaseState): number {
  let n = 0;
  for (const x of state.notes) n += x.text.length;
  for (const x of state.internalEscalations) n += x.note.length + (x.ask?.length ?? 0);
  for (const x of state.tasks) n += x.notes?.length ?? 0;
  for (const x of state.replies ?? []) n += x.text.length;
  n += state.csat?.comment?.length ?? 0;
  n += state.outcome?.note?.length ?? 0;
  if (state.resolution) n += state.resolution.rootCause.length + state.resolution.fix.length + state.resolution.prevention.length;
  return n;
}
