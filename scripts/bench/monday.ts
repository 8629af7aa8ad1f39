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
import { spawnProgram } from '../../test/helpers/processes';
import { type Bench, CONCURRENCY, MONDAY_FLOOR, MONDAY_WARN_S, WORKERS, at, call, measure, rssPeaks } from './harness';

/**
 * A calendar whose business day, 09:00–17:00 every day, begins at `t0`: its zone a fixed offset chosen so
 * that `t0` is 09:00 there. A day of eight hours, as a team's is, whatever the hour the bench runs at
 * (before, the part's days ran from t0's UTC time to midnight: run at 23:35, a day of 25 minutes, and
 * each reminder 24 business hours after a deadline was 58 such days away).
 */
export function mondayCalendar(t0: number): Calendar {
  const d = new Date(t0);
  let offset = 9 * 60 - (d.getUTCHours() * 60 + d.getUTCMinutes());
  if (offset <= -12 * 60) offset += 24 * 60;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const timezone = `UTC${sign}${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
  return { name: 'monday', timezone, hours: Object.fromEntries(WEEKDAYS.map((day) => [day, ['09:00-17:00']])), holidays: [] };
}

/** The board's users during the burst: this many loops, each a read, a list or an action after another. */
const TEAM = 6;

/**
 * The floor under the part's lateness, measured first in the same run: n bare workflows
 * (./floor/workflows.ts) with the same two wakes (a warning MONDAY_WARN_S before a deadline shared to the
 * second), on the same server, by a worker with the product worker's cache and task settings, the team
 * idle. What Temporal alone gives on these cores: the product's lateness can be no better.
 */
async function floor(b: Bench, n: number): Promise<void> {
  const { client, common, pids, out } = b;
  const queue = `${b.taskQueue}-floor`;
  // As many floor workers as the run has workers (BENCH_WORKERS), each with the same settings.
  const workers = Array.from({ length: WORKERS }, () => spawnProgram('scripts/bench/floor/worker.ts', { ...common, FLOOR_TASK_QUEUE: queue }));
  try {
    await Promise.all(workers.map((w) => w.waitFor(/floor worker running/)));
    const began = Date.now();
    const due = Math.ceil((began + Math.max(20, n / 50) * 1000 + (MONDAY_WARN_S + 5) * 1000) / 1000) * 1000;
    const wakes = [due - MONDAY_WARN_S * 1000, due];
    const ids = Array.from({ length: n }, () => `bench-floor-${randomBytes(6).toString('hex')}`);
    await measure(n, CONCURRENCY, (i) => client.workflow.start('mondayFloor', { taskQueue: queue, workflowId: ids[i], args: [wakes] }));
    if (Date.now() > wakes[0]) out(`monday: floor: starting ${n} workflows took past their first wake: raise the lead`);
    const peaks = rssPeaks({ ...Object.fromEntries(workers.map((w, i) => [`floor worker${i ? i + 1 : ''}`, w.proc.pid])), ...Object.fromEntries(Object.entries(pids).filter(([k]) => !k.startsWith('worker') && k !== 'api')) });
    const cpuFrom = wakes[0] - 5_000;
    await new Promise((r) => setTimeout(r, Math.max(0, due + 2_000 - Date.now())));
    let missing: string[] = [];
    const woke = await b.eachCase(ids, (w: number[]) => (w.length === wakes.length ? w : undefined), 'both wakes', 600_000, {
      read: (id) => client.workflow.getHandle(id).query<number[]>('woke'),
      missing: (m) => (missing = m),
    });
    if (missing.length) out(`monday: floor: ${missing.length} of ${n} bare workflows had not woken twice within 10 minutes; the figures below are the other ${woke.length}`);
    const late = (k: number) => woke.map((w) => w[k] - wakes[k]).sort((x, y) => x - y);
    const [warnLate, dueLate] = [late(0), late(1)];
    const last = Math.max(...woke.map((w) => w[1]));
    out(
      `monday: floor, ${woke.length} of ${n} bare workflows (the same two wakes, an upsert at the second, no sends) by ${WORKERS === 1 ? 'a worker' : `${WORKERS} workers`} with the product's cache and task settings, the team idle: ` +
        `deadline lateness p50 ${at(dueLate, 50)} ms, p99 ${at(dueLate, 99)} ms, max ${dueLate.at(-1)} ms; warning lateness p50 ${at(warnLate, 50)} ms, p99 ${at(warnLate, 99)} ms; drained ${((last - due) / 1000).toFixed(1)} s after the deadline`,
    );
    out(`monday: floor: peak RSS ${peaks.stop()}; CPU from 5 s before the warnings to the last wake: ${peaks.cpuBetween(cpuFrom, last)} (${n} warnings and ${n} deadlines)`);
  } finally {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
  }
}

export async function monday(b: Bench, n: number): Promise<void> {
  if (MONDAY_FLOOR) await floor(b, n);
  const { taskQueue, pids, out, start, eachCase, base, headers } = b;
  const began = Date.now();
  // Business hours begin at t0: the next whole minute once every case can be opened.
  const lead = Math.max(40, Math.ceil(n / 20)) * 1000;
  const t0 = Math.ceil((began + lead) / 60_000) * 60_000;
  const calendar = mondayCalendar(t0);
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
    // `none`: no team at all, the burst alone (beside the floor's).
    const doing = (process.env.BENCH_MONDAY_TEAM?.split(',') ?? kinds).filter((k) => k !== 'none') as Kind[];
    const times = { read: [], reread: [], list: [], act: [] } as Record<Kind, number[]>;
    /** Failures by status (0: no answer), so a 5xx is told from a refusal. */
    const failed = { read: new Map(), reread: new Map(), list: new Map(), act: new Map() } as Record<Kind, Map<number, number>>;
    let stale = 0;
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: doing.length ? TEAM : 0 }, async (_, k) => {
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
      if (xs.length + nFailed === 0) return `${kind}: none made`;
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
