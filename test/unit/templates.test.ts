import { Renderer } from '../../activities/render';
import { TEMPLATE_IDS, duration, type TemplateId } from '../../playbook';

/** Free text as people write it: a clause, a question, a very long text, markup. */
const AWKWARD = {
  clause: 'month-end close is blocked',
  question: 'is the token refresh now automatic?',
  long: `${'the nightly export stalls on files over 2 GB and retries forever '.repeat(60).trim()}`,
  markup: '<script>alert(1)</script> & *bold* <@U123>',
};
const NOW = Date.parse('2026-01-05T15:00:00Z');

/** Every field a template may splice, each set to one kind of awkward text. */
function data(text: string) {
  const kase = {
    id: 'esc-1',
    title: text,
    impact: text,
    issue: text,
    stage: 'investigate',
    severity: 'high',
    openedAt: '2026-01-05T09:00:00Z',
    neededBy: null,
    customer: { id: 'acme', name: 'Acme Corp', segment: 'enterprise', arr: 240000, healthScore: 62 },
    contact: { name: 'Dana Reyes', firstName: 'Dana', email: 'dana@acme.example' },
    csm: { name: 'Sam Carter', email: 'sam@vendor.example' },
  };
  return {
    case: kase,
    customer: kase.customer,
    contact: kase.contact,
    csm: kase.csm,
    sender: { name: 'Sam Carter' },
    severityLabel: 'High',
    segmentLabel: 'Enterprise',
    links: { case: 'http://localhost:3000/escalations/esc-1', confirm: 'http://x/c', notFixed: 'http://x/n', csat: 'http://x/s' },
    nextUpdateAt: '2026-01-05T18:00:00Z',
    dueAt: '2026-01-05T13:00:00Z',
    what: 'first progress update',
    reason: 'Churn threat',
    topic: 'Churn Risk',
    whatTried: [text],
    failedKind: 'progress_update',
    channel: 'email',
    to: ['dana@acme.example'],
    from: 'pat@customer.example',
    awaitingConfirmation: true,
    now: NOW,
    ...Object.fromEntries(['note', 'ask', 'known', 'unknown', 'doing', 'eta', 'workaround', 'rootCause', 'fix', 'prevention', 'comment', 'text', 'subject'].map((k) => [k, text])),
  };
}

const renderer = new Renderer();

/** Where `value` sits in `text`: each occurrence's line before and after it. */
function placements(text: string, value: string): { before: string; after: string }[] {
  const out: { before: string; after: string }[] = [];
  for (let i = text.indexOf(value); i >= 0; i = text.indexOf(value, i + 1)) {
    const lineStart = text.lastIndexOf('\n', i) + 1;
    const lineEnd = text.indexOf('\n', i + value.length);
    out.push({ before: text.slice(lineStart, i), after: text.slice(i + value.length, lineEnd < 0 ? undefined : lineEnd) });
  }
  return out;
}

describe.each(TEMPLATE_IDS.map((id) => [id] as [TemplateId]))('template %s', (id) => {
  test.each(Object.entries(AWKWARD))('with a %s: free text only under a label, in quotes or on its own line; one-line subject; markup escaped', (_kind, value) => {
    const r = renderer.render(id, data(value), 'America/New_York', '<@U0CSM>');
    expect(r.subject).not.toMatch(/[\r\n]/);
    // In the text form a person's words never sit inside a sentence of ours.
    for (const p of placements(r.text, value)) {
      const labelled = p.before.trim() === '' || /(: |"|>|- )$/.test(p.before);
      const ends = p.after === '' || p.after.startsWith('"');
      expect({ id, before: p.before, after: p.after, ok: labelled && ends }).toEqual({ id, before: p.before, after: p.after, ok: true });
    }
    if (value === AWKWARD.markup) {
      expect(r.html).not.toContain('<script>');
      expect(r.html).toContain('&lt;script&gt;');
      expect(r.slack).not.toContain('<script>');
      expect(r.slack).not.toContain('<@U123>'); // a person's text cannot mention anyone
    }
  });
});

describe('deadlines as people read them', () => {
  test('a reminder sent after the due time says it was due and by how much; before, how long is left', () => {
    const late = renderer.render('reminder', { ...data('x'), dueAt: '2026-01-05T14:57:00Z' }, 'UTC');
    expect(late.text).toContain('When: was due Mon, Jan 5, 2:57 PM UTC (overdue by 3m)');
    expect(late.subject).toContain('(was due');
    const early = renderer.render('deadline_warning', { ...data('x'), dueAt: '2026-01-05T17:05:00Z' }, 'UTC');
    expect(early.text).toContain('due Mon, Jan 5, 5:05 PM UTC (in 2h 5m)');
    expect([duration(0), duration(59 * 60_000), duration(26 * 3_600_000)]).toEqual(['0m', '59m', '1d 2h']);
  });

  test('a delivery notice says failed, or (sent, its answer never heard) not confirmed and to check', () => {
    const failed = renderer.render('delivery_failed', { ...data('x'), failedKind: 'acknowledgement', channel: 'email', to: ['dana@acme.example'] }, 'UTC', '<@U0CSM>');
    expect(failed.subject).toBe('[Delivery failed] Acme Corp - acknowledgement by email');
    expect(failed.slack).toMatch(/^<@U0CSM> :x: A acknowledgement message by email failed: /);
    const unsure = renderer.render('delivery_failed', { ...data('x'), failedKind: 'acknowledgement', channel: 'email', to: ['dana@acme.example'], unconfirmed: true }, 'UTC', '<@U0CSM>');
    expect(unsure.subject).toBe('[Delivery not confirmed] Acme Corp - acknowledgement by email');
    expect(unsure.text).toMatch(/may not have been delivered by email\.[\s\S]*Please check that they have it, or reach them another way/);
    expect(unsure.slack).toMatch(/^<@U0CSM> :warning: A acknowledgement message by email may not have arrived: /);
  });

  test('the leadership email is titled by its trigger', () => {
    expect(renderer.render('escalation_leadership', { ...data('x'), topic: 'Executive Involved' }, 'UTC').subject).toBe('[ESCALATION] Acme Corp - Executive Involved');
  });
});
