/**
 * The list and the report: queries of Temporal's visibility over the cases' search attributes. One
 * clause builder and one page loop serve both.
 */
import type { Client } from '@temporalio/client';
import type { TypedSearchAttributes } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import type { temporal } from '@temporalio/proto';
import { DEFAULT_TEAM, WORKFLOW_ID_PREFIX, escalationReport, type CaseFacts, type Policy } from '../playbook';
import { ESCALATION_WORKFLOW, SA } from '../workflows/messages';
import { temporalsTrouble } from './errors';
import { badCursor, readCursor, writeCursor } from './cursors';
import { COMPLETED, RUNNING, STATUS_NAMES, endedReason } from './ended-outside';
import type { ListQuery, ReportQuery } from './schemas';

/** The teams whose cases a list or a report covers: `*` every team. */
export type TeamScope = '*' | readonly string[];

/**
 * The cases a scope covers: those its teams own or were transferred away from; a case of before teams
 * (no team attribute) is `default`'s.
 */
function scopeClause(scope: TeamScope): string | undefined {
  if (scope === '*') return undefined;
  if (scope.length === 0) return `WorkflowId = ''`;
  const list = scope.map((t) => `'${quote(t)}'`).join(', ');
  return `(${SA.readers.name} IN (${list})${scope.includes(DEFAULT_TEAM) ? ` OR ${SA.team.name} IS NULL` : ''})`;
}

/** The cases a team owns now (`team=`, the metrics' `team` label). */
export function teamClause(team: string | undefined): string | undefined {
  if (team === undefined) return undefined;
  return team === DEFAULT_TEAM ? `(${SA.team.name} = '${DEFAULT_TEAM}' OR ${SA.team.name} IS NULL)` : `${SA.team.name} = '${quote(team)}'`;
}

/** At most this many cases are ordered by next deadline in one list (README). */
export const SORT_CAP = 2_000;
/**
 * A list sorted by next deadline reads every matching case's attributes (up to SORT_CAP), heavy for the
 * server when the whole team has the board open (Monday 10:00). This process reads it at most once per
 * SORTED_FRESH_MS for the same filters: requests meanwhile share that read. Up to SORTED_KEPT_MS old, it
 * is answered at once while it is read again for the next request; older, it is read first. A page says
 * when its cases were read (`listedAt`).
 */
export const SORTED_FRESH_MS = 1_000;
export const SORTED_KEPT_MS = 30_000;
/** Sorted lists kept, by filters (each up to SORT_CAP items). */
const SORTED_KEPT = 16;
type SortedRead = { at: number; items: ListItem[] };

type Execution = temporal.api.workflow.v1.IWorkflowExecutionInfo;
export type ListItem = ReturnType<typeof listItem>;

/** A visibility query of escalations: the workflow type and every filter given, joined by AND. */
function where(...clauses: (string | false | undefined)[]): string {
  return [`WorkflowType = '${ESCALATION_WORKFLOW}'`, ...clauses.filter((c): c is string => !!c)].join(' AND ');
}

export class CaseQueries {
  constructor(
    private readonly client: Client,
    /** The report measures against the policy new cases open with. */
    private readonly policy: () => Policy,
  ) {}

  /** Sorted lists read, by query, most recently read last; and the reads in flight. */
  private readonly sorted = new Map<string, SortedRead>();
  private readonly reading = new Map<string, Promise<SortedRead>>();

  async list(q: ListQuery, scope: TeamScope = '*'): Promise<{ items: ListItem[]; nextCursor: string | null; listedAt: string }> {
    const query = where(
      scopeClause(scope),
      teamClause(q.team),
      q.stage && `${SA.stage.name} = '${q.stage}'`,
      q.severity && `${SA.severity.name} = '${q.severity}'`,
      // A case whose workflow ended outside the playbook (terminated) still says "open" in its search attributes.
      q.status === 'open' && `ExecutionStatus = 'Running' AND ${SA.status.name} = 'open'`,
      q.status === 'closed' && `(ExecutionStatus != 'Running' OR ${SA.status.name} = 'closed')`,
      q.customerId && `${SA.customerId.name} = '${quote(q.customerId)}'`,
      q.csm && `${SA.csm.name} = '${quote(q.csm)}'`,
      q.breached !== undefined && (q.breached ? `${SA.breached.name} = true` : `(${SA.breached.name} = false OR ${SA.breached.name} IS NULL)`),
    );
    if (q.sort === 'nextDeadline') return this.listByDeadline(query, q);
    const token = q.cursor ? readCursor(q.cursor, query) : undefined;
    const listedAt = new Date().toISOString();
    const page = await this.page(query, q.limit, token).catch((err: { code?: number; message?: string }) => {
      // Temporal refusing a token it made (expired, another server): the cursor is at fault, not the caller's connection.
      if (token && err.code !== undefined && !temporalsTrouble(err.code)) throw badCursor(err.message ?? 'refused by Temporal');
      throw err;
    });
    const next = page.nextPageToken ? writeCursor(Buffer.from(page.nextPageToken), query) : null;
    return { items: page.executions.map(listItem), nextCursor: next, listedAt };
  }

  /** The playbook's four metrics over the cases opened in a period, read from visibility. */
  async report(q: ReportQuery, scope: TeamScope = '*') {
    const query = where(
      scopeClause(scope),
      teamClause(q.team),
      q.from && `${SA.openedAt.name} >= '${q.from}'`,
      q.to && `${SA.openedAt.name} < '${q.to}'`,
      q.segment && `${SA.segment.name} = '${q.segment}'`,
      q.severity && `${SA.severity.name} = '${q.severity}'`,
    );
    const facts: CaseFacts[] = [];
    for await (const e of this.executions(query)) facts.push(factsOf(decodeTypedSearchAttributes(e.searchAttributes?.indexedFields)));
    return { period: { from: q.from ?? null, to: q.to ?? null }, filters: { segment: q.segment ?? null, severity: q.severity ?? null, team: q.team ?? null }, ...escalationReport(facts, this.policy()) };
  }

  /**
   * Soonest next deadline first, cases without one last. SQL visibility (the dev server, PostgreSQL)
   * cannot order by a search attribute, so the API reads the matching cases (at most SORT_CAP) and
   * orders them; the cursor is a position in that order.
   */
  private async listByDeadline(query: string, q: ListQuery): Promise<{ items: ListItem[]; nextCursor: string | null; listedAt: string }> {
    const { at, items: all } = await this.sortedCases(query);
    const from = q.cursor ? Number(readCursor(q.cursor, `${query}|sorted`).toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) throw badCursor('not a position');
    const items = all.slice(from, from + q.limit);
    const next = from + q.limit < all.length ? writeCursor(Buffer.from(String(from + q.limit)), `${query}|sorted`) : null;
    return { items, nextCursor: next, listedAt: new Date(at).toISOString() };
  }

  /** The cases a query matches in deadline order: read within SORTED_FRESH_MS, or kept and read again, or read now (see SORTED_FRESH_MS). */
  private async sortedCases(query: string): Promise<SortedRead> {
    const kept = this.sorted.get(query);
    const age = kept ? Date.now() - kept.at : Number.POSITIVE_INFINITY;
    if (kept && age <= SORTED_FRESH_MS) return kept;
    const read = this.reading.get(query) ?? this.readSorted(query);
    if (kept && age <= SORTED_KEPT_MS) {
      read.catch(() => undefined); // the next request reads again
      return kept;
    }
    return read;
  }

  /** One read of a sorted list, shared by the requests that come while it is under way. */
  private readSorted(query: string): Promise<SortedRead> {
    const at = Date.now();
    const read = (async () => {
      const items: ListItem[] = [];
      for await (const e of this.executions(query, SORT_CAP)) items.push(listItem(e));
      const key = (x: ListItem) => (x.nextDeadline ? Date.parse(x.nextDeadline) : Number.POSITIVE_INFINITY);
      items.sort((a, b) => key(a) - key(b) || a.id.localeCompare(b.id));
      const done = { at, items };
      const before = this.sorted.get(query);
      if (!before || before.at < at) {
        this.sorted.delete(query);
        this.sorted.set(query, done);
        for (const oldest of this.sorted.keys()) {
          if (this.sorted.size <= SORTED_KEPT) break;
          this.sorted.delete(oldest);
        }
      }
      return done;
    })();
    this.reading.set(query, read);
    void read.then(
      () => this.reading.delete(query),
      () => this.reading.delete(query),
    );
    return read;
  }

  /** Every execution the query matches, page by page; stops after the page that reaches `cap`. */
  private async *executions(query: string, cap = Number.POSITIVE_INFINITY): AsyncGenerator<Execution> {
    let token: Uint8Array | undefined;
    let seen = 0;
    do {
      const page = await this.page(query, 1000, token);
      yield* page.executions;
      seen += page.executions.length;
      token = page.nextPageToken;
    } while (token && seen < cap);
  }

  /** One page of the query. */
  private async page(query: string, pageSize: number, nextPageToken?: Uint8Array): Promise<{ executions: Execution[]; nextPageToken?: Uint8Array }> {
    const page = await this.client.workflowService.listWorkflowExecutions({ namespace: this.client.options.namespace, query, pageSize, nextPageToken });
    return { executions: page.executions ?? [], nextPageToken: page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined };
  }
}

const quote = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

function memoOf(e: Execution): Record<string, unknown> {
  const fields = e.memo?.fields ?? {};
  return Object.fromEntries(
    Object.entries(fields).map(([k, p]) => {
      try {
        return [k, JSON.parse(Buffer.from(p.data ?? []).toString('utf8'))];
      } catch {
        return [k, null];
      }
    }),
  );
}

function listItem(e: Execution) {
  const sa = decodeTypedSearchAttributes(e.searchAttributes?.indexedFields);
  const memo = memoOf(e);
  const workflowId = e.execution?.workflowId ?? '';
  const date = (d: Date | undefined) => (d ? d.toISOString() : null);
  // Ended outside the playbook (terminated, cancelled before it could close itself): closed, whatever the attributes say.
  const endedOutside = e.status !== RUNNING && e.status !== COMPLETED && sa.get(SA.status) !== 'closed' && e.status != null;
  return {
    id: workflowId.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : workflowId,
    workflowId,
    title: (memo.title as string) ?? null,
    customer: { id: sa.get(SA.customerId) ?? null, name: (memo.customerName as string) ?? null, segment: sa.get(SA.segment) ?? null },
    stage: endedOutside ? 'closed' : (sa.get(SA.stage) ?? null),
    status: endedOutside ? 'closed' : (sa.get(SA.status) ?? null),
    closeReason: endedOutside ? endedReason(STATUS_NAMES[e.status ?? 0] ?? 'UNKNOWN') : null,
    severity: sa.get(SA.severity) ?? null,
    team: sa.get(SA.team) ?? DEFAULT_TEAM,
    csm: sa.get(SA.csm) ?? null,
    breached: sa.get(SA.breached) ?? false,
    breaches: sa.get(SA.breachKinds) ?? [],
    openedAt: date(sa.get(SA.openedAt)),
    nextDeadline: endedOutside ? null : date(sa.get(SA.nextDeadline)),
  };
}

function factsOf(sa: TypedSearchAttributes): CaseFacts {
  const outcome = sa.get(SA.outcome);
  return {
    severity: (sa.get(SA.severity) ?? 'low') as CaseFacts['severity'],
    segment: (sa.get(SA.segment) ?? 'smb') as CaseFacts['segment'],
    ackSeconds: sa.get(SA.ackSeconds) ?? null,
    resolutionSeconds: sa.get(SA.resolutionSeconds) ?? null,
    csat: sa.get(SA.csat) ?? null,
    outcome: outcome === 'churned' || outcome === 'renewed' ? outcome : null,
    breachKinds: sa.get(SA.breachKinds) ?? [],
    pausedSeconds: sa.get(SA.pausedSeconds) ?? 0,
  };
}
