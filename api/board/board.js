// The team's board: a small script over the JSON API (no build step). With sign-in (OIDC_ISSUER) the
// person's session cookie carries each call, changing ones with the session's CSRF token; without it,
// an API key kept in this tab (sessionStorage). Every call is the API's own, with its rules and errors.
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

/** 'oidc' when people sign in with the identity provider (the board's forms.json says), else 'key'. */
let SIGN_IN = 'key';
/** The signed-in person (GET /auth/me): name, email, roles per team, the session's CSRF token. */
let ME = null;

async function api(method, path, body) {
  const auth = SIGN_IN === 'oidc' ? (method === 'GET' ? {} : { 'x-csrf-token': ME?.csrfToken ?? '' }) : { authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  const res = await fetch(path, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    ME = null;
    show('signin');
  }
  return { status: res.status, data };
}

/** With sign-in: who is signed in, or the provider's sign-in link (back to this page after). */
async function whoAmI() {
  const res = await fetch('/auth/me', { credentials: 'same-origin' });
  ME = res.status === 200 ? await res.json() : null;
  const who = $('who');
  if (!ME) {
    who.replaceChildren();
    $('signin-oidc').href = `/auth/login?returnTo=${encodeURIComponent(location.pathname)}`;
    return;
  }
  const out = el('button', { type: 'button', id: 'signout', text: 'Sign out' });
  out.addEventListener('click', async () => {
    await fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': ME.csrfToken }, credentials: 'same-origin' });
    ME = null;
    location.assign('/board');
  });
  who.replaceChildren(`Signed in as ${ME.name} (${ME.email}) `, out);
  $('no-role').hidden = Object.keys(ME.roles).length > 0;
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
        el('td', { text: c.team ?? '' }),
        el('td', { text: c.csm ?? '' }),
        el('td', {}, due(c.nextDeadline)),
      ),
    ),
  );
  $('empty').hidden = data.items.length > 0;
  // The list may come from a read a few seconds old (the API shares one read among the team): say when.
  $('listed').textContent = `Listed at ${new Date(data.listedAt).toLocaleTimeString()}`;
}

// ---- a case ------------------------------------------------------------------------------------

/** Each action's form (title, path, fields with their control, whether required, choices), from GET /board/forms.json. */
let FORMS = {};

function actionForm(kase, action) {
  const spec = FORMS[action];
  const id = `form-${action}`;
  const form = el('form', { id, 'aria-labelledby': `${id}-title` }, el('h3', { id: `${id}-title`, text: spec.title }), el('p', { class: 'error', id: `${id}-error`, role: 'alert' }));
  for (const { name, label, control, options, required, min, max } of spec.fields) {
    const fid = `${id}-${name}`;
    const input =
      control === 'textarea'
        ? el('textarea', { id: fid, name, rows: '3', required, 'aria-describedby': `${fid}-error` })
        : control === 'choice'
          ? el('select', { id: fid, name, 'aria-describedby': `${fid}-error` }, ...options.map((o) => el('option', { value: o, text: o.replace(/_/g, ' ') })))
          : el('input', { id: fid, name, type: control === 'datetime' ? 'datetime-local' : control, required, 'aria-describedby': `${fid}-error`, min: min === undefined ? undefined : String(min), max: max === undefined ? undefined : String(max) });
    form.append(el('label', { for: fid, text: label }), input, el('p', { class: 'error', id: `${fid}-error`, role: 'alert' }));
  }
  form.append(el('button', { type: 'submit', text: spec.title }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const e of form.querySelectorAll('.error')) e.textContent = '';
    const body = {};
    let path = spec.path;
    for (const { name, control } of spec.fields) {
      const v = form.elements[name].value;
      if (v === '') continue;
      // A field the path carries (a task's kind) goes into the path.
      if (path.includes(`{${name}}`)) path = path.replace(`{${name}}`, encodeURIComponent(v));
      else if (control === 'datetime') body[name] = new Date(v).toISOString();
      else if (control === 'number') body[name] = Number(v);
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
    // An earlier read, answered because the worker was busy (a burst of deadlines) or the case's workflow is failing: say how old, and why.
    c.stale ? el('p', { id: 'case-stale', class: 'error', text: `As read at ${new Date(c.stale.readAt).toLocaleString()}: ${c.stale.note}.` }) : null,
    el('p', { id: 'case-state' }, el('strong', { text: `Stage: ${c.stage}` }), ` · ${c.status} · ${c.severity} · ${c.customer.name} · CSM ${c.csm.name} · team ${c.team}`, c.paused ? ` · paused (${c.paused.reason.replace(/_/g, ' ')})` : ''),
    c.temporalUiUrl ? el('p', {}, el('a', { href: c.temporalUiUrl, text: 'Open in the Temporal UI' })) : null,
    el('h3', { text: 'Deadlines' }),
    deadlines.length ? el('ul', {}, ...deadlines.map(([k, v]) => el('li', {}, `${k}: `, due(v)))) : el('p', { class: 'muted', text: 'None open.' }),
    c.breaches.length ? el('p', { class: 'overdue', text: `Breaches: ${c.breaches.map((b) => b.kind).join(', ')}` }) : null,
    el('h3', { text: 'Actions' }),
    el('div', { class: 'actions' }, ...(allowed.length ? allowed.map((a) => actionForm(c, a)) : [el('p', { class: 'muted', text: 'Nothing to do in this stage.' })])),
    el('h3', { text: 'Timeline' }),
    el('ol', { class: 'timeline' }, ...c.timeline.map((e) => el('li', {}, el('span', { class: 'muted', text: `${when(e.at)} ` }), e.summary, e.actor ? el('span', { class: 'muted', text: ` — ${typeof e.actor === 'object' ? `${e.actor.name} <${e.actor.email}>` : e.actor}` }) : null))),
    el('h3', { text: 'Messages' }),
    el('ul', {}, ...c.messages.map((m) => el('li', { text: `${when(m.at)} ${m.kind.replace(/_/g, ' ')} by ${m.channel} to ${m.to.join(', ')}: ${m.status}${m.reason ? ` (${m.reason})` : ''}` }))),
  ];
  section.replaceChildren(...parts.filter(Boolean));
}

// ---- start -------------------------------------------------------------------------------------

function route() {
  if (SIGN_IN === 'oidc' ? !ME : !sessionStorage.getItem(KEY)) return show('signin');
  const m = /^\/board\/cases\/([^/]+)$/.exec(location.pathname);
  return m ? loadCase(decodeURIComponent(m[1])) : loadList();
}

/** The forms and the filters' choices, as the API describes them. */
async function loadForms() {
  const res = await fetch('/board/forms.json');
  const data = await res.json();
  FORMS = data.forms;
  SIGN_IN = data.signIn ?? 'key';
  // Signing in with the provider: the key form is gone.
  $('signin-key').hidden = SIGN_IN === 'oidc';
  $('signin-provider').hidden = SIGN_IN !== 'oidc';
  for (const [name, values] of Object.entries(data.filters)) {
    const select = document.querySelector(`#filters select[name="${name}"]`);
    if (select) select.replaceChildren(el('option', { value: '', text: name === 'team' ? 'any of yours' : 'any' }), ...values.map((v) => el('option', { value: v, text: v })));
  }
  // Several teams: the list filters by one (the API answers 403 for a team outside the key's).
  $('team-filter').hidden = !data.filters.team;
}

document.addEventListener('DOMContentLoaded', async () => {
  await loadForms();
  if (SIGN_IN === 'oidc') await whoAmI();
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
