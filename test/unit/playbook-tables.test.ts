import {
  DEFAULT_POLICY,
  INTERNAL_ESCALATION_PATH,
  SEVERITY_TABLE,
  TRIGGERS,
  apply,
  findTrigger,
  lintCustomerText,
  newlyInvolved,
  nextLevel,
  openCase,
  routeTo,
  type CaseState,
  type InternalTrigger,
  type Severity,
} from '../../playbook';
import { policySchema } from '../../playbook/policy-schema';
import { caseInput } from '../helpers/fixtures';

const NOW = Date.parse('2026-01-05T09:00:00Z');
const HOUR = 3_600_000;

describe('severity table', () => {
  test.each([
    ['critical', '1h', ['csm', 'supportLead', 'engineering']],
    ['high', '4h', ['csm', 'support']],
    ['medium', '24h', ['csm']],
    ['low', '48h', ['support']],
  ] as const)('%s: respond within %s, involving %j', (severity, window, involved) => {
    expect(SEVERITY_TABLE[severity].responseTime).toBe(window);
    expect(DEFAULT_POLICY.respondWithin[severity]).toBe(window);
    expect(DEFAULT_POLICY.updateEvery[severity]).toBe(window);
    expect(SEVERITY_TABLE[severity].involved).toEqual(involved);
  });

  test.each([
    ['critical', ['supportLead', 'engineering']],
    ['high', ['support']],
    ['medium', []],
    ['low', ['support']],
  ] as const)('a new %s case tells the CSM and %j', (severity, others) => {
    const { effects } = openCase({ id: 'c', input: caseInput({ severity }), policy: DEFAULT_POLICY, now: NOW });
    const opened = effects.filter((m) => m.kind === 'case_opened');
    expect(opened.map((m) => m.channel).sort()).toEqual(['email', 'slack']);
    expect(new Set(opened[0].to)).toEqual(new Set(['csm', ...others]));
  });

  test('raising a case pulls in only the newly involved roles', () => {
    expect(newlyInvolved('medium', 'critical')).toEqual(['supportLead', 'engineering']);
    expect(newlyInvolved('high', 'critical')).toEqual(['supportLead', 'engineering']);
    expect(newlyInvolved('critical', 'low')).toEqual(['support']);
    expect(newlyInvolved('low', 'medium')).toEqual(['csm']);
  });

  test('breaches go to the CSM manager, and for critical cases also to the support lead', () => {
    expect(nextLevel('critical')).toEqual(['csmManager', 'supportLead']);
    for (const s of ['high', 'medium', 'low'] as Severity[]) expect(nextLevel(s)).toEqual(['csmManager']);
  });
});

describe('common escalation triggers', () => {
  test('each category lists the playbook triggers', () => {
    expect(TRIGGERS.technical.map((t) => t.label)).toEqual([
      'Platform down or slow',
      'Integration broken',
      'Data missing or incorrect',
      'Feature not working as expected',
    ]);
    expect(TRIGGERS.business.map((t) => t.label)).toEqual(['Billing dispute', 'Contract confusion', 'Feature request urgency', 'SLA breach']);
    expect(TRIGGERS.relationship.map((t) => t.label)).toEqual(['Champion frustrated', 'Executive complaint', 'Competitive threat', 'Renewal at risk']);
  });

  test('a trigger is found by id or by its label, in its own category only', () => {
    expect(findTrigger('technical', 'Integration broken')?.id).toBe('integration_broken');
    expect(findTrigger('technical', 'integration_broken')?.id).toBe('integration_broken');
    expect(findTrigger('business', 'integration_broken')).toBeUndefined();
  });

  test.each([
    ['business', 'billing_dispute', 'billing_contract', ['finance']],
    ['business', 'contract_confusion', 'billing_contract', ['finance', 'legal']],
    ['business', 'feature_request_urgency', 'product_gap', ['product']],
    ['relationship', 'executive_complaint', 'executive_involved', ['vpCs']],
    ['relationship', 'competitive_threat', 'churn_threat', ['vpCs', 'execSponsor']],
    ['relationship', 'renewal_at_risk', 'churn_threat', ['vpCs', 'execSponsor']],
  ] as const)('opening with %s/%s escalates internally (%s → %j)', (category, trigger, internal, to) => {
    const { state } = openCase({ id: 'c', input: caseInput({ category, trigger, severity: 'medium' }), policy: DEFAULT_POLICY, now: NOW });
    expect(state.internalEscalations.map((e) => [e.trigger, e.to])).toEqual([[internal, to]]);
  });

  test('flags at open escalate to VP CS (executive) and VP CS + exec sponsor (churn threat)', () => {
    const { state, effects } = openCase({
      id: 'c',
      input: caseInput({ flags: { executiveInvolved: true, churnThreat: true } }),
      policy: DEFAULT_POLICY,
      now: NOW,
    });
    expect(state.internalEscalations.map((e) => [e.trigger, e.to])).toEqual([
      ['executive_involved', ['vpCs']],
      ['churn_threat', ['vpCs', 'execSponsor']],
    ]);
    expect(effects.filter((m) => m.template === 'escalation_leadership')).toHaveLength(4);
  });
});

describe('internal escalation path', () => {
  test.each([
    ['unresolved', ['csmManager'], 'leadership'],
    ['executive_involved', ['vpCs'], 'leadership'],
    ['churn_threat', ['vpCs', 'execSponsor'], 'leadership'],
    ['engineering_required', ['supportLead', 'engineering'], 'support'],
    ['billing_contract', ['finance'], 'support'],
    ['product_gap', ['product'], 'support'],
  ] as const)('%s goes to %j with the %s template', (trigger, to, template) => {
    expect(routeTo(trigger)).toEqual(to);
    expect(INTERNAL_ESCALATION_PATH[trigger].template).toBe(template);
  });

  test('billing/contract adds legal when needed', () => {
    expect(routeTo('billing_contract', { includeIfNeeded: true })).toEqual(['finance', 'legal']);
  });

  test.each(Object.keys(INTERNAL_ESCALATION_PATH) as InternalTrigger[])('an agent escalating %s records it and alerts by email and Slack', (trigger) => {
    const opened = openCase({ id: 'c', input: caseInput({ severity: 'medium' }), policy: DEFAULT_POLICY, now: NOW }).state;
    const { state, effects } = apply(opened, { type: 'internal_escalation', trigger, note: 'why', ask: 'what we need' }, NOW + HOUR);
    expect(state.internalEscalations.at(-1)).toMatchObject({ trigger, note: 'why', ask: 'what we need', to: routeTo(trigger) });
    expect(effects.map((m) => [m.channel, m.to])).toEqual([
      ['email', routeTo(trigger)],
      ['slack', routeTo(trigger)],
    ]);
  });
});

describe('policy', () => {
  test('an empty policy is the playbook default', () => {
    expect(policySchema.parse({})).toEqual(DEFAULT_POLICY);
    expect(policySchema.parse(undefined)).toEqual(DEFAULT_POLICY);
  });

  test('a partial policy keeps the other defaults', () => {
    const p = policySchema.parse({ respondWithin: { critical: '30m' }, warnBefore: '10m' });
    expect(p.respondWithin).toEqual({ ...DEFAULT_POLICY.respondWithin, critical: '30m' });
    expect(p.warnBefore).toBe('10m');
    expect(p.acknowledgeWithin).toBe('1h');
  });

  test('bad windows are refused with the field named', () => {
    const r = policySchema.safeParse({ acknowledgeWithin: 'soon', respondWithin: { urgent: '1h' }, warnBefore: 2 });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['acknowledgeWithin', 'respondWithin', 'warnBefore']));
  });
});

describe('message lint', () => {
  test.each([
    ["I'll look into it and get back to you.", 'vague_phrase'],
    ['That shouldn’t happen on our platform.', 'irrelevant_phrase'],
    ['Let me check with the team.', 'no_timeline'],
  ])('refuses %j', (text, code) => {
    const r = lintCustomerText({ note: text }, { apologiesSoFar: 0 });
    expect(r.errors.map((e) => e.code)).toEqual([code]);
    expect(r.errors[0].suggestion).toMatch(/update for you by \[time\]/);
  });

  test('"Let me check with the team" is fine with a time', () => {
    expect(lintCustomerText({ note: 'Let me check with the team, I will be back by 3pm.' }, { apologiesSoFar: 0 }).errors).toEqual([]);
  });

  test('apologizing once is fine; a second apology is flagged', () => {
    expect(lintCustomerText({ known: "We're sorry." }, { apologiesSoFar: 0 }).warnings).toEqual([]);
    const second = lintCustomerText({ known: 'Again, our apologies.' }, { apologiesSoFar: 1 });
    expect(second.warnings.map((w) => [w.code, w.field])).toEqual([['repeated_apology', 'known']]);
  });

  test('a progress update without a next-update time is refused unless overridden', () => {
    const s = acknowledged();
    expect(() => apply(s, { type: 'update', known: 'The sync job fails on large files.' }, NOW + HOUR)).toThrow(
      expect.objectContaining({ code: 'lint', message: expect.stringMatching(/next update/) }),
    );
    const ok = apply(s, { type: 'update', known: 'The sync job fails on large files.', overrideLint: true }, NOW + HOUR);
    expect(ok.state.promisedUpdateAt).toBe(new Date(NOW + 2 * HOUR).toISOString());
  });
});

function acknowledged(): CaseState {
  const opened = openCase({ id: 'c', input: caseInput(), policy: DEFAULT_POLICY, now: NOW }).state;
  return apply(opened, { type: 'acknowledge', by: 'sam' }, NOW + 10 * 60_000).state;
}
