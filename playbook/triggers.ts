import type { InternalTrigger } from './routing';

/** The playbook's common escalation triggers, by category. */
export const CATEGORIES = ['technical', 'business', 'relationship'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface TriggerDef {
  id: string;
  label: string;
  /** An internal escalation this trigger starts by itself when a case opens with it. */
  escalates?: { trigger: InternalTrigger; includeIfNeeded?: boolean };
}

export const TRIGGERS: Readonly<Record<Category, readonly TriggerDef[]>> = {
  technical: [
    { id: 'platform_down', label: 'Platform down or slow' },
    { id: 'integration_broken', label: 'Integration broken' },
    { id: 'data_issue', label: 'Data missing or incorrect' },
    { id: 'feature_not_working', label: 'Feature not working as expected' },
  ],
  business: [
    { id: 'billing_dispute', label: 'Billing dispute', escalates: { trigger: 'billing_contract' } },
    { id: 'contract_confusion', label: 'Contract confusion', escalates: { trigger: 'billing_contract', includeIfNeeded: true } },
    { id: 'feature_request_urgency', label: 'Feature request urgency', escalates: { trigger: 'product_gap' } },
    { id: 'sla_breach', label: 'SLA breach' },
  ],
  relationship: [
    { id: 'champion_frustrated', label: 'Champion frustrated' },
    { id: 'executive_complaint', label: 'Executive complaint', escalates: { trigger: 'executive_involved' } },
    { id: 'competitive_threat', label: 'Competitive threat', escalates: { trigger: 'churn_threat' } },
    { id: 'renewal_at_risk', label: 'Renewal at risk', escalates: { trigger: 'churn_threat' } },
  ],
};

const normalize = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, ' ');

/** The known trigger a caller meant (by id or label), or undefined for a free-text trigger. */
export function findTrigger(category: Category, text: string): TriggerDef | undefined {
  const wanted = normalize(text);
  return TRIGGERS[category].find((t) => normalize(t.id) === wanted || normalize(t.label) === wanted);
}
