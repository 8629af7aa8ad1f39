/**
 * `npm run bench`, part monday: Monday 10:00 under business hours. n cases are opened over a "weekend"
 * (before a calendar's business hours begin), so every acknowledge deadline (one business minute here,
 * an hour in the playbook) falls on the same second, and every warning on the same second before it.
 * The team works the queue through the burst as on a Monday: reads of cases (GET /escalations/{id}: a
 * case's first read, and re-reads of cases read before),
 * the board's first page (GET /escalations?sort=nextDeadline) and actions (a note on a case), each timed
 * before the burst (the baseline, in the same run) and during it.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_POLICY, WEEKDAYS, type Calendar } from '../../playbook';
import { type Bench, CONCURRENCY, MONDAY_WARN_S, at, call, measure, rssPeaks } from './harness';

/** The board's users during the burst: this many loops, each a read, a list or an action after another. */
const TEAM = 6;

export async function monday(b: Bench, n: number): Promise<void> {
  const { taskQueue, pids, out, start, eachCase, base, headers } = b;
  const began = Date.now();
  // Business hours begin at t0: the next whole minute once every case can be opened.
  const lead = Math.max(40, Math.ceil(n / 20)) * 1000;
  const t0 = Math.ceil((began + lead) / 60_000) * 60_000;
  const hhmm = new Date(t0).toISOString().slice(11, 16);
  const calendar: Calendar = { name: 'monday', timezone: 'UTC', hours: Object.fromEntries(WEEKDAYS.map((d) => [d, [`${hhmm}-24:00`]])), holidays: [] };
  const policy = { ...DEFAULT_POLICY, acknowledgeWithin: '1m', remindEvery: '24h', warnBefore: `${MONDAY_WARN_S}s` };
  const due = t0 + 60_000;
  const ids = Array.from({ length: n }, () => `bench-monday-${randomBytes(6).toString('hex')}`);
  const peaks = rssPeaks(pids);
  await measure(n, CONCURRENCY, (i) => start(taskQueue, { caseId: ids[i], policy, calendar }));
  const openedIn = (Date.now() - began) / 1000;
  if (Date.now() > t0) out(`monday: opening ${n} cases took ${openedIn.toFixed(0)} s, past the start of business hours: raise the lead`);

  /** Cases the team has read (answered) in this run: a re-read picks one of them, as a CSM goes back to a case. */
  const readBefore: string[] = [];
  /**
   * The team's requests for `ms`: each loop picks the first read of a case, a re-read of one read
   * before, the board's first page or a note on a case. A read answered from an earlier read (the worker
   * behind: the view's `stale` set) is counted apart.
   */
  const work = async (ms: number) => {
    const kinds = ['read', 'reread', 'list', 'act'] as const;
    type Kind = (typeof kinds)[number];
    // BENCH_MONDAY_TEAM: the kinds of request the team makes (all four by default), e.g. without the board's list.
    const doing = (process.env.BENCH_MONDAY_TEAM?.split(',') ?? kinds) as Kind[];
    const times = { read: [], reread: [], list: [], act: [] } as Record<Kind, number[]>;
    /** Failures by status (0: no answer), so a 5xx is told from a refusal. */
    const failed = { read: new Map(), reread: new Map(), list: new Map(), act: new Map() } as Record<Kind, Map<number, number>>;
    let stale = 0;
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: TEAM }, async (_, k) => {
        for (let i = 0; Date.now() < until; i++) {
          let kind: Kind = doing[(i + k) % doing.length];
          if (kind === 'reread' && readBefore.length === 0) kind = 'read';
          const id = kind === 'reread' ? readBefore[Math.floor(Math.random() * readBefore.length)] : ids[Math.floor(Math.random() * n)];
          const t = performance.now();
          const r =
            kind === 'read' || kind === 'reread'
              ? await call('GET', `${base}/escalations/${id}`, headers).catch(() => ({ status: 0, text: '' }))
              : kind === 'list'
                ? await call('GET', `${base}/escalations?sort=nextDeadline&status=open&limit=25`, headers).catch(() => ({ status: 0, text: '' }))
                : await call('POST', `${base}/escalations/${id}/notes`, headers, JSON.stringify({ text: 'Checked the logs from the weekend', kind: 'investigation' })).catch(() => ({ status: 0, text: '' }));
          if (r.status === 200) times[kind].push(performance.now() - t);
          else failed[kind].set(r.status, (failed[kind].get(r.status) ?? 0) + 1);
          if (r.status === 200 && kind === 'read') readBefore.push(id);
          if (r.status === 200 && (kind === 'read' || kind === 'reread') && (JSON.parse(r.text) as { stale: unknown }).stale) stale++;
        }
      }),
    );
    const line = (kind: Kind) => {
      const xs = times[kind].sort((x, y) => x - y);
      const byStatus = [...failed[kind]].sort(([a], [b]) => a - b);
      const nFailed = byStatus.reduce((sum, [, c]) => sum + c, 0);
      const how = byStatus.map(([status, c]) => `${status === 0 ? 'no answer' : status} ×${c}`).join(', ');
      return `${kind} p50 ${at(xs, 50)?.toFixed(0)} ms, p90 ${at(xs, 90)?.toFixed(0)} ms, p99 ${at(xs, 99)?.toFixed(0)} ms (${xs.length} answered, ${nFailed} failed${nFailed ? `: ${how}` : ''})`;
    };
    return { text: `${kinds.map(line).join('; ')}; ${stale} reads answered stale`, p99: Object.fromEntries(kinds.map((k) => [k, at(times[k].sort((x, y) => x - y), 99)])) };
  };

  // The baseline: the same team's work while the weekend is quiet (the cases opened and settled).
  await new Promise((r) => setTimeout(r, Math.max(0, t0 - 25_000 - Date.now())));
  const quiet = await work(Math.min(15_000, Math.max(5_000, t0 - 5_000 - Date.now())));
  // The burst: warnings at due − MONDAY_WARN_S (15 s: a quarter of the window), then the breaches at due.
  await new Promise((r) => setTimeout(r, Math.max(0, due - Math.max(20, MONDAY_WARN_S + 5) * 1000 - Date.now())));
  const cpuFrom = Date.now();
  const working = work(due + 60_000 - Date.now());
  await new Promise((r) => setTimeout(r, Math.max(0, due + 2_000 - Date.now())));
  // Every breach within 10 minutes, else the figures of those recorded and the cases that did not come.
  let missing: string[] = [];
  const breaches = await eachCase(
    ids,
    (v) => {
      const breach = v.breaches.find((x) => x.kind === 'acknowledge');
      return breach && { ...breach, warnedAt: v.messages.find((m) => m.kind === 'deadline_warning')?.at };
    },
    'acknowledge breach',
    600_000,
    { missing: (m) => (missing = m) },
  );
  if (missing.length) out(`monday: ${missing.length} of ${n} cases recorded no breach within 10 minutes (read by query): ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}; the figures below are the other ${breaches.length}`);
  const busy = await working;
  const lateness = breaches.map((x) => Date.parse(x.at) - Date.parse(x.dueAt)).sort((x, y) => x - y);
  const wrongDue = breaches.filter((x) => Date.parse(x.dueAt) !== due).length;
  const lastBreach = Math.max(...breaches.map((x) => Date.parse(x.at)));
  out(
    `monday: ${n} acknowledge deadlines due at the same second (${new Date(due).toISOString()}${wrongDue ? `; ${wrongDue} due at another time` : ''}), each warned ${MONDAY_WARN_S} s before; opened in ${openedIn.toFixed(0)} s: ` +
      `lateness p50 ${at(lateness, 50)} ms, p99 ${at(lateness, 99)} ms, max ${lateness.at(-1)} ms; drained ${((lastBreach - due) / 1000).toFixed(1)} s after the deadline`,
  );
  // The warnings: when each was sent against when it was due, and whether they had drained by the deadline.
  const warned = breaches.flatMap((x) => (x.warnedAt ? [Date.parse(x.warnedAt)] : []));
  const warnLate = warned.map((w) => w - (due - MONDAY_WARN_S * 1000)).sort((x, y) => x - y);
  const lastWarning = Math.max(...warned);
  out(
    `monday: their ${warned.length} warnings, due ${MONDAY_WARN_S} s before the deadline: lateness p50 ${at(warnLate, 50)} ms, p99 ${at(warnLate, 99)} ms, max ${warnLate.at(-1)} ms; ` +
      `the last sent ${((lastWarning - due) / 1000).toFixed(1)} s ${lastWarning > due ? 'after the deadline: the breaches waited behind them' : 'from the deadline (before it): drained first'}`,
  );
  out(`monday: the team before the burst (baseline): ${quiet.text}`);
  out(`monday: the team during the burst: ${busy.text}`);
  const ratio = (k: string) => ((busy.p99 as Record<string, number>)[k] / (quiet.p99 as Record<string, number>)[k]).toFixed(1);
  out(`monday: p99 during the burst against before it: read ${ratio('read')}×, re-read ${ratio('reread')}×, list ${ratio('list')}×, act ${ratio('act')}×`);
  out(`monday: peak RSS ${peaks.stop()}; CPU from ${Math.max(20, MONDAY_WARN_S + 5)} s before the deadline to the last breach: ${peaks.cpuBetween(cpuFrom, lastBreach)} (${n} warnings and ${n} breaches)`);
}
