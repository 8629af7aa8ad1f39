import type { Action } from '../playbook';
import type { LinkAction } from '../config/links';
import type { ApiRole } from './auth';

type ActionType = Action['type'];

/** Every action endpoint: path, the playbook action, who may call it, and whether a customer link may. */
export const ACTION_ROUTES: { path: string; action: ActionType; role: ApiRole; summary: string; link?: LinkAction[] }[] = [
  { path: '/escalations/:id/acknowledge', action: 'acknowledge', role: 'agent', summary: 'Acknowledge: emails the contact and promises the next update' },
  { path: '/escalations/:id/notes', action: 'note', role: 'agent', summary: 'Add to the internal investigation log' },
  { path: '/escalations/:id/updates', action: 'update', role: 'agent', summary: 'Send a progress update and promise the next one' },
  { path: '/escalations/:id/severity', action: 'severity', role: 'agent', summary: 'Change the severity: deadlines recomputed, newly involved roles told' },
  { path: '/escalations/:id/internal-escalations', action: 'internal_escalation', role: 'agent', summary: 'Escalate internally along the playbook path' },
  { path: '/escalations/:id/resolve', action: 'resolve', role: 'agent', summary: 'Send the resolution and ask the customer to confirm' },
  { path: '/escalations/:id/confirmation', action: 'confirmation', role: 'agent', summary: "Record the customer's confirmation (or reopen)", link: ['confirm', 'not_fixed'] },
  { path: '/escalations/:id/tasks/:kind/complete', action: 'complete_task', role: 'agent', summary: 'Complete a follow-up or recovery task' },
  { path: '/escalations/:id/csat', action: 'csat', role: 'agent', summary: 'Record CSAT (0–10)', link: ['csat'] },
  { path: '/escalations/:id/outcome', action: 'outcome', role: 'agent', summary: 'Record the renewal outcome' },
  { path: '/escalations/:id/close', action: 'close', role: 'admin', summary: 'Close early (duplicate, withdrawn)' },
  { path: '/escalations/:id/pause', action: 'pause', role: 'agent', summary: 'Pause the customer-facing clocks while waiting on the customer or a third party' },
  { path: '/escalations/:id/resume', action: 'resume', role: 'agent', summary: 'Run the paused clocks again: every open deadline moves by the time paused' },
];

