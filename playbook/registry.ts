/**
 * Every action people (and customers, and their replies) take on a case, each defined once: its
 * payload, the stages that allow it, the role it needs, its HTTP path, its workflow update, and how
 * the docs and the board present it. The workflow's updates and validators, the API's routes, the
 * OpenAPI operations, the board's forms and the stage checks are all derived from this table
 * (test/unit/registry.test.ts walks each of them against it). Adding an action is one entry here and
 * its case in the reducer (playbook/actions.ts).
 */
import type { z } from 'zod';
import type { FieldKit } from './inputs';
import { INTERNAL_TRIGGERS } from './routing';
import { SEVERITIES } from './severity';
import { REPLY_CHARS, TEXT_LIMITS } from './limits';
import { NOTE_KINDS, PAUSE_REASONS, STAGES, TASK_KINDS, type Stage } from './state';

/** The stages a case is open in. */
export const OPEN_STAGES = STAGES.filter((s): s is Exclude<Stage, 'closed'> => s !== 'closed');

/** Who may take an action through the API (a customer link may take some too: `link`). */
export type ActionRole = 'agent' | 'admin';
/** The customer links in emails (config/links.ts signs them). */
export const LINK_ACTIONS = ['confirm', 'not_fixed', 'csat'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

/** A field of the action's form on the board: its control; whether it is required, and its choices, come from the payload schema. */
export interface FormField {
  name: string;
  label: string;
  control: 'text' | 'textarea' | 'datetime' | 'number' | 'choice';
  /** A yes/no choice's order, the first preselected (default: true, false). */
  choices?: readonly string[];
}

interface ActionDef {
  /** The payload, made from the field kit (see playbook/inputs.ts for why a builder). */
  input(k: FieldKit): z.ZodObject;
  /** The stages a case allows it in. */
  stages: readonly Stage[];
  /** The workflow update that carries it: its name is in every running case's history, never renamed. */
  update: string;
  /** How people reach it: the path under /escalations/{id}/, the role, the links that may take it; none: not an API action. */
  http?: { path: string; role: ActionRole; link?: readonly LinkAction[] };
  /** The name of its body in the API document. */
  body: string;
  /** One line for the docs and the Temporal UI. */
  summary: string;
  /** The board's form: its title and fields (none: the board offers no form). */
  form?: { title: string; fields: readonly FormField[] };
  /** Refused with 422: by the message lint, by a case limit. */
  refusedBy?: readonly ('message_lint' | 'limit_reached')[];
  /** What a client would really send (the docs show it; a test checks it passes the schema). */
  example: Record<string, unknown>;
}

const field = (name: string, label: string, control: FormField['control'] = 'text', choices?: readonly string[]): FormField => ({ name, label, control, ...(choices ? { choices } : {}) });

export const ACTIONS = {
  acknowledge: {
    input: (k) => k.z.object({ by: k.by(), note: k.long().optional(), nextUpdateAt: k.isoTime().optional(), overrideLint: k.overrideLint() }),
    stages: ['acknowledge'],
    update: 'acknowledge',
    http: { path: 'acknowledge', role: 'agent' },
    body: 'Acknowledge',
    summary: 'Acknowledge: emails the contact and promises the next update',
    form: { title: 'Acknowledge', fields: [field('note', 'Note to the customer', 'textarea'), field('nextUpdateAt', 'Next update by', 'datetime')] },
    refusedBy: ['message_lint'],
    example: { note: 'We are looking at the sync logs now.', nextUpdateAt: '2031-12-01T15:00:00Z' },
  },
  note: {
    input: (k) => k.z.object({ by: k.by(), text: k.text(TEXT_LIMITS.note), kind: k.z.enum(NOTE_KINDS).optional() }),
    stages: OPEN_STAGES,
    update: 'addNote',
    http: { path: 'notes', role: 'agent' },
    body: 'Note',
    summary: 'Add to the internal investigation log',
    form: { title: 'Add a note (internal)', fields: [field('text', 'Note', 'textarea'), field('kind', 'Kind', 'choice')] },
    refusedBy: ['limit_reached'],
    example: { text: 'The sync worker runs out of memory on files over 2 GB', kind: 'root_cause' },
  },
  update: {
    input: (k) =>
      k.z.object({
        by: k.by(),
        known: k.long(),
        unknown: k.long().optional(),
        doing: k.long().optional(),
        eta: k.text(500).optional(),
        workaround: k.long().optional(),
        nextUpdateAt: k.isoTime().optional().describe('Required by the playbook lint (422 without it)'),
        overrideLint: k.overrideLint(),
      }),
    stages: ['investigate', 'communicate'],
    update: 'progressUpdate',
    http: { path: 'updates', role: 'agent' },
    body: 'ProgressUpdate',
    summary: 'Send a progress update and promise the next one',
    form: {
      title: 'Send a progress update',
      fields: [
        field('known', 'What we know', 'textarea'),
        field('unknown', "What we're still investigating", 'textarea'),
        field('workaround', 'Workaround in the meantime', 'textarea'),
        field('eta', 'ETA'),
        field('nextUpdateAt', 'Next update by', 'datetime'),
      ],
    },
    refusedBy: ['message_lint', 'limit_reached'],
    example: { known: 'Large exports crash the sync worker', unknown: 'Why only the EU region', workaround: 'Split the export into two files', nextUpdateAt: '2031-12-01T17:00:00Z' },
  },
  severity: {
    input: (k) => k.z.object({ by: k.by(), severity: k.z.enum(SEVERITIES), reason: k.short() }),
    stages: ['acknowledge', 'investigate', 'communicate', 'resolve'],
    update: 'changeSeverity',
    http: { path: 'severity', role: 'agent' },
    body: 'SeverityChange',
    summary: 'Change the severity: deadlines recomputed, newly involved roles told',
    form: { title: 'Change the severity', fields: [field('severity', 'Severity', 'choice'), field('reason', 'Reason')] },
    refusedBy: ['limit_reached'],
    example: { severity: 'high', reason: 'A workaround is in place' },
  },
  internal_escalation: {
    input: (k) =>
      k.z.object({
        by: k.by(),
        trigger: k.z.enum(INTERNAL_TRIGGERS),
        note: k.long(),
        ask: k.short().optional(),
        includeIfNeeded: k.z.boolean().optional().describe('Also involve the "if needed" roles (legal for billing/contract)'),
      }),
    stages: OPEN_STAGES,
    update: 'escalateInternally',
    http: { path: 'internal-escalations', role: 'agent' },
    body: 'InternalEscalation',
    summary: 'Escalate internally along the playbook path',
    form: { title: 'Escalate internally', fields: [field('trigger', 'Trigger', 'choice'), field('note', 'Why', 'textarea'), field('ask', 'What you need')] },
    refusedBy: ['limit_reached'],
    example: { trigger: 'engineering_required', note: 'Needs a hotfix to the sync worker', ask: 'A patch today' },
  },
  resolve: {
    input: (k) => k.z.object({ by: k.by(), rootCause: k.long(), fix: k.long(), prevention: k.long(), overrideLint: k.overrideLint() }),
    stages: ['investigate', 'communicate'],
    update: 'resolve',
    http: { path: 'resolve', role: 'agent' },
    body: 'Resolution',
    summary: 'Send the resolution and ask the customer to confirm',
    form: { title: 'Send the resolution', fields: [field('rootCause', 'Root cause', 'textarea'), field('fix', 'Fix', 'textarea'), field('prevention', 'Prevention', 'textarea')] },
    refusedBy: ['message_lint', 'limit_reached'],
    example: { rootCause: 'A memory limit in the sync worker', fix: 'Uploads are streamed', prevention: 'Load tests with 5 GB files in CI' },
  },
  confirmation: {
    input: (k) => k.z.object({ by: k.by(), resolved: k.z.boolean(), comment: k.long().optional() }),
    stages: ['resolve'],
    update: 'confirmation',
    http: { path: 'confirmation', role: 'agent', link: ['confirm', 'not_fixed'] },
    body: 'Confirmation',
    summary: "Record the customer's confirmation (or reopen)",
    form: { title: "Record the customer's answer", fields: [field('resolved', 'Is it fixed?', 'choice'), field('comment', 'Their words', 'textarea')] },
    example: { resolved: true, comment: 'Working again, thanks' },
  },
  complete_task: {
    input: (k) => k.z.object({ by: k.by(), kind: k.z.enum(TASK_KINDS), notes: k.long() }),
    stages: ['follow_up', 'recovery'],
    update: 'completeTask',
    http: { path: 'tasks/{kind}/complete', role: 'agent' },
    body: 'TaskCompletion',
    summary: 'Complete a follow-up or recovery task',
    form: { title: 'Complete a task', fields: [field('kind', 'Task', 'choice'), field('notes', 'Notes', 'textarea')] },
    refusedBy: ['limit_reached'],
    example: { notes: 'Called Dana: stable since the fix' },
  },
  csat: {
    input: (k) => k.z.object({ by: k.by(), score: k.z.number().int().min(0).max(10), comment: k.long().optional() }),
    stages: ['follow_up', 'recovery'],
    update: 'csat',
    http: { path: 'csat', role: 'agent', link: ['csat'] },
    body: 'Csat',
    summary: 'Record CSAT (0–10)',
    form: { title: 'Record CSAT', fields: [field('score', 'Score (0–10)', 'number'), field('comment', 'Comment', 'textarea')] },
    refusedBy: ['limit_reached'],
    example: { score: 9, comment: 'Great recovery' },
  },
  outcome: {
    input: (k) => k.z.object({ by: k.by(), churned: k.z.boolean(), note: k.long().optional() }),
    stages: OPEN_STAGES,
    update: 'outcome',
    http: { path: 'outcome', role: 'agent' },
    body: 'Outcome',
    summary: 'Record the renewal outcome',
    form: { title: 'Record the renewal outcome', fields: [field('churned', 'Churned?', 'choice', ['false', 'true']), field('note', 'Note', 'textarea')] },
    refusedBy: ['limit_reached'],
    example: { churned: false, note: 'Renewed for two years' },
  },
  close: {
    input: (k) => k.z.object({ by: k.by(), reason: k.short() }),
    stages: OPEN_STAGES,
    update: 'close',
    http: { path: 'close', role: 'admin' },
    body: 'Close',
    summary: 'Close early (duplicate, withdrawn)',
    form: { title: 'Close early (admin)', fields: [field('reason', 'Reason')] },
    example: { reason: 'Duplicate of acme-51f0c2e9aa' },
  },
  pause: {
    input: (k) =>
      k.z.object({
        by: k.by(),
        reason: k.z.enum(PAUSE_REASONS),
        note: k.short().optional(),
        until: k.isoTime().optional().describe('Resume by itself at this time (also on resume, or when the customer replies)'),
      }),
    stages: ['investigate', 'communicate'],
    update: 'pause',
    http: { path: 'pause', role: 'agent' },
    body: 'Pause',
    summary: 'Pause the customer-facing clocks while waiting on the customer or a third party',
    form: { title: 'Pause the clocks', fields: [field('reason', 'Waiting on', 'choice'), field('note', 'Note'), field('until', 'Resume by itself at', 'datetime')] },
    refusedBy: ['limit_reached'],
    example: { reason: 'waiting_on_customer', note: 'Asked for their sync logs', until: '2031-12-02T09:00:00Z' },
  },
  resume: {
    input: (k) => k.z.object({ by: k.by(), note: k.short().optional() }),
    // A pause holds only in these stages: resolving or closing ends it.
    stages: ['investigate', 'communicate'],
    update: 'resume',
    http: { path: 'resume', role: 'agent' },
    body: 'Resume',
    summary: 'Run the paused clocks again: every open deadline moves by the time paused',
    form: { title: 'Resume the clocks', fields: [field('note', 'Note')] },
    refusedBy: ['limit_reached'],
    example: { note: 'Logs arrived' },
  },
  transfer: {
    input: (k) => k.z.object({ by: k.by(), team: k.teamId().describe("The team the case moves to (the config's teams)"), reason: k.short() }),
    stages: OPEN_STAGES,
    update: 'transfer',
    http: { path: 'transfer', role: 'agent' },
    body: 'Transfer',
    summary: "Move the case to another team with its deadlines unchanged: the new team's people are told, its Slack thread continues in the new team's channel",
    form: { title: 'Transfer to another team', fields: [field('team', 'Team'), field('reason', 'Reason')] },
    refusedBy: ['limit_reached'],
    example: { team: 'emea', reason: 'The customer is served from Berlin now' },
  },
  rotate_status_link: {
    input: (k) => k.z.object({ by: k.by() }),
    stages: OPEN_STAGES,
    update: 'rotateStatusLink',
    http: { path: 'status-link/rotate', role: 'agent' },
    body: 'StatusLinkRotation',
    summary: "Make a new status page link for the customer: the old one answers 410; the next customer email carries the new one",
    form: { title: 'New status page link', fields: [] },
    example: {},
  },
  reply: {
    input: (k) =>
      k.z.object({
        by: k.by(),
        from: k.line(320),
        // The inbound path cuts a longer reply to this (the whole email stays in the mailbox it came from).
        text: k.text(REPLY_CHARS),
        subject: k.line(998).optional(),
        messageId: k.line(998).optional(),
      }),
    stages: OPEN_STAGES,
    // Customer replies arrive as email (POST /inbound/email), not as an action route.
    update: 'customerReply',
    body: 'CustomerReply',
    summary: "A customer's email reply",
    example: { from: 'dana@acme.example', text: 'Here are the logs.' },
  },
} as const satisfies Record<string, ActionDef>;

export type ActionType = keyof typeof ACTIONS;
/** Every action, in the table's order (the order the board and a case's allowed actions list them). */
export const ACTION_TYPES = Object.keys(ACTIONS) as ActionType[];
/** An action's payload as its schema outputs it (trimmed, times as full ISO). */
export type ActionArgs<T extends ActionType> = z.output<ReturnType<(typeof ACTIONS)[T]['input']>>;
/** An action as the reducer takes it: its type and its payload. */
export type Action = { [T in ActionType]: { type: T } & ActionArgs<T> }[ActionType];

/** The payload schemas of every action, made once by whoever keeps them. */
export function actionSchemasOf(k: FieldKit): { [T in ActionType]: ReturnType<(typeof ACTIONS)[T]['input']> } {
  return Object.fromEntries(ACTION_TYPES.map((t) => [t, ACTIONS[t].input(k)])) as never;
}

/** Which stage allows which action: the one table the state machine enforces, the view shows and the API documents. */
export const ACTION_STAGES: Readonly<Record<ActionType, readonly Stage[]>> = Object.fromEntries(ACTION_TYPES.map((t) => [t, ACTIONS[t].stages])) as never;

/** Task kinds narrow `complete_task`: the follow-up belongs to its own stage. */
export const TASK_STAGES: Readonly<Record<string, readonly Stage[]>> = {
  follow_up: ['follow_up'],
};

/** Why the API may refuse the action with 422 besides its schema (none for most). */
export function refusalsOf(type: ActionType): readonly ('message_lint' | 'limit_reached')[] {
  const def: ActionDef = ACTIONS[type];
  return def.refusedBy ?? [];
}

export function allowedIn(type: ActionType, stage: Stage): boolean {
  return ACTIONS[type].stages.includes(stage as never);
}

/** The actions a case in `stage` allows, in the table's order. */
export function actionsAllowed(stage: Stage): ActionType[] {
  return ACTION_TYPES.filter((a) => allowedIn(a, stage));
}
