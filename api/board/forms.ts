/**
 * What the board needs to offer a case's actions: each action's form, from the action registry and
 * the same schemas the API validates with (which fields are required, the choices, a number's range).
 * The board (board.js) reads it from GET /board/forms.json and keeps no list of its own.
 */
import { z } from 'zod';
import { ACTIONS, OPEN_STAGES, SEVERITIES, type FormField } from '../../playbook';
import { ACTION_ROUTES } from '../routes';
import { actionSchemas } from '../schemas';

export interface BoardField extends FormField {
  required: boolean;
  options?: readonly string[];
  min?: number;
  max?: number;
}

/** `teams`: the configured team ids, a transfer's choices and the list's team filter. */
export function boardForms(teams: readonly string[] = []) {
  const forms = ACTION_ROUTES.flatMap((r) => {
    const def = ACTIONS[r.action];
    if (!('form' in def)) return [];
    const shape = (actionSchemas[r.action] as z.ZodObject).shape;
    const fields = def.form.fields.map((f: FormField): BoardField => {
      const field = describe(f, shape[f.name]);
      // A team is a string to the schema; the board offers the configured ones.
      return r.action === 'transfer' && f.name === 'team' && teams.length > 0 ? { ...field, control: 'choice', options: teams } : field;
    });
    return [[r.action, { title: def.form.title, path: r.template.replace('/escalations/{id}/', ''), fields }] as const];
  });
  return { forms: Object.fromEntries(forms), filters: { severity: SEVERITIES, stage: OPEN_STAGES, ...(teams.length > 1 ? { team: teams } : {}) } };
}

function describe(f: FormField, schema: z.ZodType | undefined): BoardField {
  if (!schema) throw new Error(`The board's form names a field its action does not take: ${f.name}`);
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  const out: BoardField = { ...f, required: !schema.safeParse(undefined).success };
  if (inner instanceof z.ZodEnum) out.options = inner.options as string[];
  if (inner instanceof z.ZodBoolean) out.options = f.choices ?? ['true', 'false'];
  if (inner instanceof z.ZodNumber) {
    if (inner.minValue !== null && Number.isFinite(inner.minValue)) out.min = inner.minValue;
    if (inner.maxValue !== null && Number.isFinite(inner.maxValue)) out.max = inner.maxValue;
  }
  return out;
}
