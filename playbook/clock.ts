/**
 * The clock: every timer point due by `now` — warnings, breaches, reminders, the automatic follow-up.
 */
import { nextLevel, type Party } from './severity';
import { DEADLINE_LABELS, liveFiredKeys, points, type Point } from './deadlines';
import { endPause, escalateInternally, maybeAdvance } from './transitions';
import { Draft, iso, rulesOf, task, type CaseState, type Transition } from './state';
import type { Outbound, TemplateId } from './messages';

/** Handles every timer point due by `now`. */
export function tick(prev: CaseState, now: number): Transition {
  const d = new Draft(prev, now);
  runClock(d);
  return d.done();
}

/** The clock's work inside a draft: also the first step of every action under rules 2. */
export function runClock(d: Draft): void {
  const s = d.s;
  const alerts: Alert[] = [];
  for (let next = points(s)[0]; next && next.at <= d.now && s.status === 'open'; next = points(s)[0]) {
    s.fired.push(next.key);
    const alert = fire(d, next);
    if (alert) alerts.push(alert);
  }
  for (const a of mergeAlerts(alerts)) d.alert(a.kind, a.template, a.to, a.data);
  if (rulesOf(s) >= 2) s.fired = liveFiredKeys(s);
}

interface Alert {
  kind: Extract<Outbound['kind'], 'deadline_warning' | 'breach' | 'reminder'>;
  template: TemplateId;
  to: Party[];
  data: { deadline: string; what: string; dueAt: string; n?: number };
}

/** Deadlines that fall due together (a critical case's acknowledge and respond) make one alert, not two. */
function mergeAlerts(alerts: Alert[]): Alert[] {
  const merged = new Map<string, Alert>();
  for (const a of alerts) {
    const key = `${a.kind}|${a.to.join('+')}`;
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...a, data: { ...a.data } });
    else {
      seen.data.deadline += `,${a.data.deadline}`;
      seen.data.what += ` and ${a.data.what}`;
      if (a.data.dueAt < seen.data.dueAt) seen.data.dueAt = a.data.dueAt;
    }
  }
  return [...merged.values()];
}

function fire(d: Draft, point: Point): Alert | undefined {
  const s = d.s;
  if (point.type === 'resume') {
    endPause(d, `the pause ran until ${s.pause?.until}`);
    return undefined;
  }
  const { kind, dueAt } = point.deadline;
  const data = { deadline: kind as string, what: DEADLINE_LABELS[kind], dueAt: iso(dueAt) };
  switch (point.type) {
    case 'warn':
      return { kind: 'deadline_warning', template: 'deadline_warning', to: ['csm'], data };
    case 'auto_follow_up': {
      const x = task(s, 'follow_up')!;
      x.doneAt = d.at;
      x.notes = 'Follow-up email sent automatically';
      d.log('follow_up', 'Follow-up email sent to the customer');
      d.send('follow_up', 'follow_up', ['contact'], { fix: s.resolution?.fix ?? '', prevention: s.resolution?.prevention ?? '' }, ['email']);
      maybeAdvance(d);
      return undefined;
    }
    case 'due':
      if (kind === 'resolve') {
        escalateInternally(d, { trigger: 'unresolved', note: `Not resolved within ${s.policy.escalateUnresolvedAfter} of opening` });
        return undefined;
      }
      if (!point.deadline.breachable) return { kind: 'reminder', template: 'reminder', to: ['csm'], data: { ...data, n: 0 } };
      // A deadline that comes back at the same moment (severity raised, then lowered) is missed once.
      if (rulesOf(s) >= 2 && s.breaches.some((b) => b.kind === kind && b.dueAt === data.dueAt)) return undefined;
      s.breaches.push({ kind, dueAt: data.dueAt, at: d.at });
      d.log('breach', `Missed: ${data.what} (due ${data.dueAt})`);
      // Routed by the severity the case has now, not the one it opened with.
      return { kind: 'breach', template: 'breach_alert', to: ['csm', ...nextLevel(s.severity)], data };
    case 'remind':
      return { kind: 'reminder', template: 'reminder', to: ['csm'], data: { ...data, n: point.n } };
  }
}
