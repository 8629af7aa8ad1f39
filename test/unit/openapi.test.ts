import { EXAMPLES, buildOpenApi } from '../../api/openapi';
import { actionSchemas, openSchema } from '../../api/schemas';
import type { ActionType } from '../../playbook';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = buildOpenApi({ serverUrl: 'https://escalations.example.com' }) as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops as object).map(([method, op]) => ({ path, method, op: op as any })));

describe('the OpenAPI document, for people', () => {
  test('every operation has its own operationId; the server is PUBLIC_BASE_URL', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers).toEqual([{ url: 'https://escalations.example.com', description: 'PUBLIC_BASE_URL' }]);
  });

  test('every JSON success answers with a schema that says what is in it (no empty objects)', () => {
    const described = (schema: { $ref?: string; properties?: object }): boolean => {
      if (schema.$ref) return described(doc.components.schemas[schema.$ref.split('/').at(-1)!]);
      return Object.keys(schema.properties ?? {}).length > 0;
    };
    for (const { path, method, op } of operations) {
      for (const [status, res] of Object.entries(op.responses) as [string, { content?: Record<string, { schema: object }> }][]) {
        const schema = res.content?.['application/json']?.schema;
        if (status.startsWith('2') && schema) expect([method, path, status, described(schema)]).toEqual([method, path, status, true]);
      }
    }
    expect(Object.keys(doc.components.schemas.Escalation.properties)).toEqual(expect.arrayContaining(['stage', 'deadlines', 'paused', 'timeline', 'messages']));
  });

  test('the examples are realistic and valid: each passes the schema the API validates with', () => {
    expect(doc.components.schemas.OpenEscalation.example).toEqual(EXAMPLES.open);
    expect(openSchema.safeParse(EXAMPLES.open).success).toBe(true);
    for (const [action, example] of Object.entries(EXAMPLES.actions) as [ActionType, Record<string, unknown>][]) {
      const schema = action === 'complete_task' ? actionSchemas.complete_task.omit({ kind: true }) : actionSchemas[action];
      expect([action, schema.safeParse(example).success]).toEqual([action, true]);
    }
  });
});
