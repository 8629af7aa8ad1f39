import type { CaseInput } from '../../playbook';

let n = 0;
/** A unique case id per test, so workflows never collide. */
export function uniqueId(prefix = 'case'): string {
  n += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${n}`;
}

export function caseInput(overrides: Partial<CaseInput> = {}): CaseInput {
  return {
    customer: { id: 'acme', name: 'Acme Corp', segment: 'enterprise', arr: 240000, healthScore: 62 },
    contact: { name: 'Dana Reyes', email: 'dana@acme.example', timezone: 'America/New_York' },
    csm: { name: 'Sam Carter', email: 'sam@vendor.example' },
    severity: 'critical',
    category: 'technical',
    trigger: 'data_issue',
    title: 'Data sync failing',
    impact: 'their finance team cannot close the month',
    ...overrides,
  };
}
