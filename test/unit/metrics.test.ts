import { DEFAULT_POLICY, escalationMetrics, escalationReport, type CaseFacts } from '../../playbook';

const fact = (f: Partial<CaseFacts>): CaseFacts => ({
  severity: 'high',
  segment: 'enterprise',
  ackSeconds: null,
  resolutionSeconds: null,
  csat: null,
  outcome: null,
  breachKinds: [],
  pausedSeconds: 0,
  ...f,
});

test('time to acknowledge: p50, p90 and the share within the 1h target', () => {
  const cases = [10, 20, 30, 40, 50, 60, 70, 80, 90, 120].map((m) => fact({ ackSeconds: m * 60 }));
  expect(escalationMetrics(cases, DEFAULT_POLICY).timeToAcknowledge).toEqual({ target: '1h', count: 10, p50Minutes: 50, p90Minutes: 90, withinTarget: 0.6 });
});

test('time to resolution is judged against each severity’s window', () => {
  const m = escalationMetrics(
    [fact({ severity: 'critical', resolutionSeconds: 1800 }), fact({ severity: 'critical', resolutionSeconds: 7200 }), fact({ severity: 'low', resolutionSeconds: 40 * 3600 })],
    DEFAULT_POLICY,
  );
  expect(m.timeToResolution.bySeverity.critical).toMatchObject({ window: '1h', count: 2, withinTarget: 0.5 });
  expect(m.timeToResolution.bySeverity.low).toMatchObject({ window: '48h', count: 1, withinTarget: 1 });
  expect(m.timeToResolution.bySeverity.high).toMatchObject({ count: 0, withinTarget: null });
});

test('CSAT, churn over decided cases, breaches by kind, and the breakdowns', () => {
  const cases = [
    fact({ csat: 9, outcome: 'renewed', breachKinds: ['acknowledge'] }),
    fact({ csat: 6, outcome: 'churned', segment: 'smb', breachKinds: ['acknowledge', 'next_update'] }),
    fact({ csat: 7 }),
    fact({}),
  ];
  const r = escalationReport(cases, DEFAULT_POLICY);
  expect(r.csat).toEqual({ target: 7, responses: 3, average: 7.3, atOrAboveTarget: 0.667 });
  expect(r.churn).toEqual({ target: 0.05, decided: 2, churned: 1, rate: 0.5 });
  expect(r.breaches).toEqual({ total: 3, byKind: { acknowledge: 2, next_update: 1 } });
  expect(r.bySegment.smb.churn.rate).toBe(1);
  expect(r.bySegment.enterprise.cases).toBe(3);
  expect(r.bySeverity.high.cases).toBe(4);
});

describe('paused time in the reports', () => {
  test('time to resolution is given with and without paused time, and the share of it paused', () => {
    const m = escalationMetrics(
      [
        fact({ severity: 'high', resolutionSeconds: 10 * 3600, pausedSeconds: 6 * 3600 }),
        fact({ severity: 'high', resolutionSeconds: 2 * 3600, pausedSeconds: 0 }),
      ],
      DEFAULT_POLICY,
    );
    const high = m.timeToResolution.bySeverity.high;
    // Paused time stays in the headline figure: a pause cannot make a slow case look fast.
    expect(high.p90Minutes).toBe(600);
    expect(high.withinTarget).toBe(0.5);
    expect(high.excludingPaused.p90Minutes).toBe(240);
    expect(high.excludingPaused.withinTarget).toBe(1);
    expect(high.pausedShare).toBe(0.5);
    expect(m.timeToResolution.bySeverity.low.pausedShare).toBeNull();
  });
});
