/**
 * The case's root post in Slack as a control panel (Block Kit): what the case is, where it stands,
 * and a button for each action the stage allows. Pure: the activities render it for the first post
 * and for every in-place update (`chat.update`); the API reads the same action ids.
 */
import { INTERNAL_ESCALATION_PATH, INTERNAL_TRIGGERS } from './routing';
import { SEGMENT_LABELS } from './state';
import { actionsAllowed } from './registry';
import { DEADLINE_LABELS } from './deadlines';
import { caseSummary, type MessageCase } from './view';

/** The `action_id`s of the panel (CONTRACT.md, "Slack interactivity"). */
export const PANEL_ACTIONS = {
  acknowledge: 'escalation.acknowledge',
  update: 'escalation.update',
  escalate: 'escalation.escalate',
  pause: 'escalation.pause',
  resume: 'escalation.resume',
  resolve: 'escalation.resolve',
} as const;

/** What the panel shows that can change: the workflow refreshes the post when this changes. */
export function panelKey(c: MessageCase): string {
  return JSON.stringify([c.stage, c.status, c.severity, c.nextDeadline?.kind ?? null, c.nextDeadline?.dueAt ?? null, c.paused ?? false]);
}

const PAUSE_OPTIONS = [
  { text: 'Waiting on the customer', value: 'waiting_on_customer' },
  { text: 'Waiting on a third party', value: 'waiting_on_third_party' },
];

type Block = Record<string, unknown>;
const facts = (c: MessageCase) =>
  `${SEGMENT_LABELS[c.customer.segment] ?? c.customer.segment} · ARR $${Math.round(c.customer.arr).toLocaleString('en-US')} · Health ${c.customer.healthScore} · Impact: ${c.impact}`;
const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });
const button = (text: string, action: string, value: string, style?: 'primary' | 'danger') => ({ type: 'button', text: plain(text), action_id: action, value, ...(style ? { style } : {}) });

/** The root post: a headline, the state, and the buttons of what the stage allows. */
export function casePanel(c: MessageCase, intro?: string): { text: string; blocks: Block[] } {
  const headline = caseSummary(c);
  const next = c.nextDeadline ? `${DEADLINE_LABELS[c.nextDeadline.kind]}, <!date^${Math.floor(Date.parse(c.nextDeadline.dueAt) / 1000)}^{date_short_pretty} {time}|${c.nextDeadline.dueAt}>` : 'none';
  const state = c.status === 'closed' ? '*Closed*' : `*Stage:* ${c.stage}${c.paused ? ' · :double_vertical_bar: *paused*' : ''} · *Next deadline:* ${next}`;
  const blocks: Block[] = [
    // The first post carries the opening alert; an update keeps the facts that matter (the alert is in notifications).
    { type: 'section', block_id: 'headline', text: { type: 'mrkdwn', text: `*${headline}*\n${intro ?? facts(c)}` } },
    { type: 'context', block_id: 'state', elements: [{ type: 'mrkdwn', text: `${state} · CSM ${c.csm.name} · case \`${c.id}\`` }] },
  ];
  const allowed = c.status === 'closed' ? [] : actionsAllowed(c.stage);
  const elements: Block[] = [];
  if (allowed.includes('acknowledge')) elements.push(button('Acknowledge', PANEL_ACTIONS.acknowledge, c.id, 'primary'));
  if (allowed.includes('update')) elements.push(button('Post an update', PANEL_ACTIONS.update, c.id));
  if (allowed.includes('resolve')) elements.push(button('Resolve', PANEL_ACTIONS.resolve, c.id));
  if (allowed.includes('pause') && !c.paused) {
    elements.push({
      type: 'static_select',
      action_id: PANEL_ACTIONS.pause,
      placeholder: plain('Pause the clocks'),
      options: PAUSE_OPTIONS.map((o) => ({ text: plain(o.text), value: `${c.id}|${o.value}` })),
    });
  }
  if (allowed.includes('resume') && c.paused) elements.push(button('Resume the clocks', PANEL_ACTIONS.resume, c.id));
  if (allowed.includes('internal_escalation')) {
    elements.push({
      type: 'static_select',
      action_id: PANEL_ACTIONS.escalate,
      placeholder: plain('Escalate internally'),
      options: INTERNAL_TRIGGERS.map((t) => ({ text: plain(INTERNAL_ESCALATION_PATH[t].topic), value: `${c.id}|${t}` })),
    });
  }
  if (elements.length > 0) blocks.push({ type: 'actions', block_id: `case:${c.id}`.slice(0, 255), elements });
  return { text: headline, blocks };
}
