// The team's board: a small script over the JSON API (no build step). The API key stays in this tab
// (sessionStorage); every call is the API's own, with its rules and its errors.
'use strict';

const KEY = 'escalations.apiKey';
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
};
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' }) : '—');
const span = (ms) => {
  const m = Math.max(0, Math.round(ms / 60000));
  const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
  return d ? `${d}d${h ? ` ${h}h` : ''}` : h ? `${h}h${min ? ` ${min}m` : ''}` : `${min}m`;
};
/** A deadline as the viewer reads it, marked when it is past. */
function due(iso) {
  if (!iso) return el('span', { class: 'muted', text: 'none' });
  const late = Date.parse(iso) < Date.now();
  return late ? el('span', { class: 'overdue', text: `${when(iso)} — overdue by ${span(Date.now() - Date.parse(iso))}` }) : el('span', { text: when(iso) });
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    show('signin');
  }
  return { status: res.status, data };
}

function show(section) {
  for (const id of ['signin', 'list', 'case']) $(id).hidden = id !== section;
}

// ---- the list ----------------------------------------------------------------------------------

async function loadList() {
  show('list');
  document.title = 'Open cases — Escalations';
  const params = new URLSearchParams({ status: 'open', sort: 'nextDeadline', limit: '100' });
  for (const [k, v] of new FormData($('filters'))) if (v) params.set(k, v);
  const { status, data } = await api('GET', `/escalations?${params}`);
  if (status !== 200) return;
  const rows = $('rows');
  rows.replaceChildren(
    ...data.items.map((c) =>
      el(
        'tr',
        {},
        el('td', {}, el('a', { href: `/board/cases/${encodeURIComponent(c.id)}`, text: c.title ?? c.id })),
        el('td', { text: c.customer?.name ?? c.customer?.id ?? '' }),
        el('td', { text: c.severity ?? '' }),
        el('td', { text: c.stage ?? '' }),
        el('td', { text: c.csm ?? '' }),
        el('td', {}, due(c.nextDeadline)),
      ),
    ),
  );
  $('empty').hidden = data.items.length > 0;
}

// ---- a case ------------------------------------------------------------------------------------

const TRIGGERS = ['unresolved', 'executive_involved', 'churn_threat', 'engineering_required', 'billing_contract', 'product_gap'];
/** The forms of the actions a stage allows: endpoint, fields (name, label, kind, options, required). */
const FORMS = {
  acknowledge: { title: 'Acknowledge', path: 'acknowledge', fields: [['note', 'Note to the customer', 'textarea'], ['nextUpdateAt', 'Next update by', 'datetime']] },
  update: {
    title: 'Send a progress update',
    path: 'updates',
    fields: [['known', 'What we know', 'textarea', null, true], ['unknown', "What we're still investigating", 'textarea'], ['workaround', 'Workaround in the meantime', 'textarea'], ['eta', 'ETA', 'text'], ['nextUpdateAt', 'Next update by', 'datetime']],
  },
  note: { title: 'Add a note (internal)', path: 'notes', fields: [['text', 'Note', 'textarea', null, true], ['kind', 'Kind', 'select', ['investigation', 'root_cause', 'workaround']]] },
  internal_escalation: { title: 'Escalate internally', path: 'internal-escalations', fields: [['trigger', 'Trigger', 'select', TRIGGERS], ['note', 'Why', 'textarea', null, true], ['ask', 'What you need', 'text']] },
  severity: { title: 'Change the severity', path: 'severity', fields: [['severity', 'Severity', 'select', ['critical', 'high', 'medium', 'low']], ['reason', 'Reason', 'text', null, true]] },
  pause: { title: 'Pause the clocks', path: 'pause', fields: [['reason', 'Waiting on', 'select', ['waiting_on_customer', 'waiting_on_third_party']], ['note', 'Note', 'text'], ['until', 'Resume by itself at', 'datetime']] },
  resume: { title: 'Resume the clocks', path: 'resume', fields: [['note', 'Note', 'text']] },
  resolve: { title: 'Send the resolution', path: 'resolve', fields: [['rootCause', 'Root cause', 'textarea', null, true], ['fix', 'Fix', 'textarea', null, true], ['prevention', 'Prevention', 'textarea', null, true]] },
  confirmation: { title: "Record the customer's answer", path: 'confirmation', fields: [['resolved', 'Is it fixed?', 'select', ['true', 'false']], ['comment', 'Their words', 'textarea']] },
  complete_task: { title: 'Complete a task', path: 'tasks/{kind}/complete', fields: [['kind', 'Task', 'select', ['follow_up', 'recovery_call', 'health_check', 'qbr_review']], ['notes', 'Notes', 'textarea', null, true]] },
  csat: { title: 'Record CSAT', path: 'csat', fields: [['score', 'Score (0–10)', 'number', null, true], ['comment', 'Comment', 'textarea']] },
  outcome: { title: 'Record the renewal outcome', path: 'outcome', fields: [['churned', 'Churned?', 'select', ['false', 'true']], ['note', 'Note', 'textarea']] },
  close: { title: 'Close early (admin)', path: 'close', fields: [['reason', 'Reason', 'text', null, true]] },
};

function actionForm(kase, action) {
  const spec = FORMS[action];
  const id = `form-${action}`;
  const form = el('form', { id, 'aria-labelledby': `${id}-title` }, el('h3', { id: `${id}-title`, text: spec.title }), el('p', { class: 'error', id: `${id}-error`, role: 'alert' }));
  for (const [name, label, kind, options, required] of spec.fields) {
    const fid = `${id}-${name}`;
    const input =
      kind === 'textarea'
        ? el('textarea', { id: fid, name, rows: '3', required, 'aria-describedby': `${fid}-error` })
        : kind === 'select'
          ? el('select', { id: fid, name, 'aria-describedby': `${fid}-error` }, ...options.map((o) => el('option', { value: o, text: o.replace(/_/g, ' ') })))
          : el('input', { id: fid, name, type: kind === 'datetime' ? 'datetime-local' : kind, required, 'aria-describedby': `${fid}-error`, ...(kind === 'number' ? { min: '0', max: '10' } : {}) });
    form.append(el('label', { for: fid, text: label }), input, el('p', { class: 'error', id: `${fid}-error`, role: 'alert' }));
  }
  form.append(el('button', { type: 'submit', text: spec.title }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const e of form.querySelectorAll('.error')) e.textContent = '';
    const body = {};
    let path = spec.path;
    for (const [name, , kind] of spec.fields) {
      const v = form.elements[name].value;
      if (v === '') continue;
      if (name === 'kind' && path.includes('{kind}')) path = path.replace('{kind}', v);
      else if (kind === 'datetime') body[name] = new Date(v).toISOString();
      else if (kind === 'number') body[name] = Number(v);
      else if (v === 'true' || v === 'false') body[name] = v === 'true';
      else body[name] = v;
    }
    const { status, data } = await api('POST', `/escalations/${encodeURIComponent(kase.id)}/${path}`, body);
    if (status === 200) return loadCase(kase.id);
    // A refusal shows beside the field it names (the lint's and the schema's), and above the form.
    $(`${id}-error`).textContent = data.error?.message ?? `Refused (${status})`;
    for (const d of Array.isArray(data.error?.details) ? data.error.details : []) {
      const target = $(`${id}-${d.field}-error`);
      if (target) target.textContent = d.message;
    }
  });
  return form;
}

async function loadCase(caseId) {
  show('case');
  const { status, data: c } = await api('GET', `/escalations/${encodeURIComponent(caseId)}`);
  const section = $('case');
  if (status !== 200) {
    section.replaceChildren(el('p', { class: 'error', text: status === 404 ? 'No such case.' : `The case could not be read (${status}).` }));
    return;
  }
  document.title = `${c.title} — Escalations`;
  const deadlines = Object.entries(c.deadlines).filter(([, v]) => v);
  const allowed = (c.playbook?.allowedActions ?? []).filter((a) => FORMS[a] && !(a === 'pause' && c.paused) && !(a === 'resume' && !c.paused));
  const parts = [
    el('p', {}, el('a', { href: '/board', text: '← Open cases' })),
    el('h2', { id: 'case-title', text: c.title }),
    el('p', { id: 'case-state' }, el('strong', { text: `Stage: ${c.stage}` }), ` · ${c.status} · ${c.severity} · ${c.customer.name} · CSM ${c.csm.name}`, c.paused ? ` · paused (${c.paused.reason.replace(/_/g, ' ')})` : ''),
    c.temporalUiUrl ? el('p', {}, el('a', { href: c.temporalUiUrl, text: 'Open in the Temporal UI' })) : null,
    el('h3', { text: 'Deadlines' }),
    deadlines.length ? el('ul', {}, ...deadlines.map(([k, v]) => el('li', {}, `${k}: `, due(v)))) : el('p', { class: 'muted', text: 'None open.' }),
    c.breaches.length ? el('p', { class: 'overdue', text: `Breaches: ${c.breaches.map((b) => b.kind).join(', ')}` }) : null,
    el('h3', { text: 'Actions' }),
    el('div', { class: 'actions' }, ...(allowed.length ? allowed.map((a) => actionForm(c, a)) : [el('p', { class: 'muted', text: 'Nothing to do in this stage.' })])),
    el('h3', { text: 'Timeline' }),
    el('ol', { class: 'timeline' }, ...c.timeline.map((e) => el('li', {}, el('span', { class: 'muted', text: `${when(e.at)} ` }), e.summary, e.actor ? el('span', { class: 'muted', text: ` — ${e.actor}` }) : null))),
    el('h3', { text: 'Messages' }),
    el('ul', {}, ...c.messages.map((m) => el('li', { text: `${when(m.at)} ${m.kind.replace(/_/g, ' ')} by ${m.channel} to ${m.to.join(', ')}: ${m.status}${m.reason ? ` (${m.reason})` : ''}` }))),
  ];
  section.replaceChildren(...parts.filter(Boolean));
}

// ---- start -------------------------------------------------------------------------------------

function route() {
  if (!sessionStorage.getItem(KEY)) return show('signin');
  const m = /^\/board\/cases\/([^/]+)$/.exec(location.pathname);
  return m ? loadCase(decodeURIComponent(m[1])) : loadList();
}

document.addEventListener('DOMContentLoaded', () => {
  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $('key').value.trim());
    const { status } = await api('GET', '/escalations?limit=1');
    if (status === 200) return route();
    $('signin-error').textContent = status === 401 ? 'That key is not valid.' : `Sign-in failed (${status}).`;
    sessionStorage.removeItem(KEY);
  });
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    loadList();
  });
  route();
});
