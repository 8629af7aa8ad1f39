/** Every table derived from the action registry covers every action, as the registry says. */
import { z } from 'zod';
import { ACTIONS, ACTION_STAGES, ACTION_TYPES, actionsAllowed, refusalsOf, STAGES, type ActionType } from '../../playbook';
import { ACTION_UPDATES } from '../../workflows/messages';
import { ACTION_ROUTES } from '../../api/routes';
import { actionSchemas } from '../../api/schemas';
import { buildOpenApi } from '../../api/openapi';
import { boardForms } from '../../api/board/forms';

const withHttp = ACTION_TYPES.filter((t) => 'http' in ACTIONS[t]);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = buildOpenApi() as any;

test('every action has its workflow update, named as the registry says, and no two share a name', () => {
  expect(Object.keys(ACTION_UPDATES).sort()).toEqual([...ACTION_TYPES].sort());
  for (const t of ACTION_TYPES) expect([t, ACTION_UPDATES[t].name]).toEqual([t, ACTIONS[t].update]);
  expect(new Set(ACTION_TYPES.map((t) => ACTIONS[t].update)).size).toBe(ACTION_TYPES.length);
});

test('the update names running cases know never change', () => {
  // Renaming one would leave every running case without a handler for it.
  expect(Object.fromEntries(ACTION_TYPES.map((t) => [t, ACTIONS[t].update]))).toEqual({
    acknowledge: 'acknowledge',
    note: 'addNote',
    update: 'progressUpdate',
    severity: 'changeSeverity',
    transfer: 'transfer',
    rotate_status_link: 'rotateStatusLink',
    internal_escalation: 'escalateInternally',
    resolve: 'resolve',
    confirmation: 'confirmation',
    complete_task: 'completeTask',
    csat: 'csat',
    outcome: 'outcome',
    close: 'close',
    pause: 'pause',
    resume: 'resume',
    reply: 'customerReply',
  });
});

test('every action with an HTTP entry has one route with its role, and the stage table is the registry’s', () => {
  expect(ACTION_ROUTES.map((r) => r.action)).toEqual(withHttp);
  expect(new Set(ACTION_ROUTES.map((r) => r.path)).size).toBe(ACTION_ROUTES.length);
  for (const r of ACTION_ROUTES) {
    const http = (ACTIONS[r.action] as { http: { role: string; path: string } }).http;
    expect([r.action, r.role, r.template]).toEqual([r.action, http.role, `/escalations/{id}/${http.path}`]);
    // A field the path carries is a field of the payload.
    for (const f of r.pathFields) expect([r.action, f, f in (actionSchemas[r.action] as z.ZodObject).shape]).toEqual([r.action, f, true]);
  }
  for (const t of ACTION_TYPES) expect(ACTION_STAGES[t]).toBe(ACTIONS[t].stages);
  for (const stage of STAGES) expect(actionsAllowed(stage)).toEqual(ACTION_TYPES.filter((t) => (ACTIONS[t].stages as readonly string[]).includes(stage)));
});

test('every route is an operation of the API document, with the registry’s body, stages and refusals', () => {
  for (const r of ACTION_ROUTES) {
    const op = doc.paths[r.template]?.post;
    expect([r.action, op?.operationId]).toEqual([r.action, ACTIONS[r.action].update]);
    expect(op.requestBody.content['application/json'].schema.$ref).toBe(`#/components/schemas/${ACTIONS[r.action].body}`);
    expect(op.responses['409'].description).toContain(ACTIONS[r.action].stages.join(', '));
    const refusedBy = refusalsOf(r.action);
    for (const code of refusedBy) expect(op.responses['422'].description).toContain(code);
    if (refusedBy.length === 0) expect(op.responses['422']).toBeUndefined();
  }
});

test('the board has a form for every action the registry gives one, and each form can send what its schema requires', () => {
  const { forms } = boardForms();
  const withForm = ACTION_TYPES.filter((t) => 'form' in ACTIONS[t]);
  expect(Object.keys(forms)).toEqual(withForm);
  for (const t of withForm as ActionType[]) {
    const form = forms[t];
    const shape = (actionSchemas[t] as z.ZodObject).shape;
    const required = Object.keys(shape).filter((k) => !shape[k].safeParse(undefined).success);
    expect([t, required.filter((k) => !form.fields.some((f: { name: string }) => f.name === k))]).toEqual([t, []]);
    for (const f of form.fields) {
      expect([t, f.name, f.required]).toEqual([t, f.name, required.includes(f.name)]);
      if (f.control === 'choice') expect([t, f.name, (f.options ?? []).length > 1]).toEqual([t, f.name, true]);
    }
  }
  expect(forms.severity.fields.find((f: { name: string }) => f.name === 'severity')?.options).toEqual(['critical', 'high', 'medium', 'low']);
  expect(forms.csat.fields.find((f: { name: string }) => f.name === 'score')).toMatchObject({ min: 0, max: 10, required: true });
});
