import type { Role } from './severity';

/** The playbook's internal escalation path. */
export const INTERNAL_TRIGGERS = [
  'unresolved',
  'executive_involved',
  'churn_threat',
  'engineering_required',
  'billing_contract',
  'product_gap',
] as const;
export type InternalTrigger = (typeof INTERNAL_TRIGGERS)[number];

/** Which of the playbook's two internal templates a route uses. */
export type InternalTemplate = 'support' | 'leadership';

export interface Route {
  when: string;
  /** Told, in this order ("Support Lead → Engineering"). */
  to: readonly Role[];
  /** Added when the caller says they are needed ("Finance + Legal if needed"). */
  ifNeeded?: readonly Role[];
  template: InternalTemplate;
  /** What the leadership email's subject calls it ("[ESCALATION] Acme - Churn Risk"). */
  topic: string;
}

export const INTERNAL_ESCALATION_PATH: Readonly<Record<InternalTrigger, Route>> = {
  unresolved: { when: "Can't resolve in 24 hours", to: ['csmManager'], template: 'leadership', topic: 'Unresolved' },
  executive_involved: { when: 'Customer executive involved', to: ['vpCs'], template: 'leadership', topic: 'Executive Involved' },
  churn_threat: { when: 'Churn threat', to: ['vpCs', 'execSponsor'], template: 'leadership', topic: 'Churn Risk' },
  engineering_required: { when: 'Engineering required', to: ['supportLead', 'engineering'], template: 'support', topic: 'Engineering Required' },
  billing_contract: { when: 'Billing/Contract', to: ['finance'], ifNeeded: ['legal'], template: 'support', topic: 'Billing/Contract' },
  product_gap: { when: 'Product gap causing issue', to: ['product'], template: 'support', topic: 'Product Gap' },
};

export function routeTo(trigger: InternalTrigger, opts: { includeIfNeeded?: boolean } = {}): Role[] {
  const route = INTERNAL_ESCALATION_PATH[trigger];
  return [...route.to, ...(opts.includeIfNeeded ? (route.ifNeeded ?? []) : [])];
}
