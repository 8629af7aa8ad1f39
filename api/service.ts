import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Client, isGrpcServiceError, QueryRejectedError, WorkflowClient, WorkflowUpdateFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type SearchAttributePair, type TypedSearchAttributes } from '@temporalio/common';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { temporal } from '@temporalio/proto';
import {
  CANCELLED_IN_TEMPORAL,
  DEFAULT_LIMITS,
  RULES_VERSION,
  caseSummary,
  caseView,
  openCase,
  visibilityOf,
  type Calendar,
  type CaseState,
  type Limits,
  escalationReport,
  workflowIdFor,
  type Action,
  type CaseFacts,
  type CaseInput,
  type CaseView,
  type Policy,
} from '../playbook';
import { ACTION_UPDATES, ESCALATION_WORKFLOW, SA, getCaseQuery, openingOf, type ActionResult, type EscalationInput } from '../workflows/messages';
import { HttpError, UNAVAILABLE, notFound } from './errors';
import type { ListQuery, OpenBody, ReportQuery } from './schemas';

type ActionType = Action['type'];
/** The case view as the API answers it: with its link to the Temporal UI. */
export type LinkedView = CaseView & { temporalUiUrl: string | null };
type ActionArgs<T extends ActionType> = Omit<Extract<Action, { type: T }>, 'type'>;

/**
 * A case's start: its input, the case as the workflow will open it (the state machine is pure, so the
 * API answers without a worker), and the start request with its memo (what the list shows), search
 * attributes (listed and filtered from the first moment, before or without any worker running it) and
 * the UI's summary.
 */
export function prepareStart(taskQueue: string, body: OpenBody, o: { caseId: string; policy: Policy; limits: Limits; calendar?: Calendar }) {
  const { calendar: _named, ...input } = body;
  const params: EscalationInput = {
    caseId: o.caseId,
    input: input satisfies CaseInput,
    policy: o.policy,
    rulesVersion: RULES_VERSION,
    limits: o.limits,
    openedAt: new Date().toISOString(),
    ...(o.calendar ? { calendar: o.calendar } : {}),
  };
  const opening = openCase(openingOf(params)).state;
  const fingerprint = sha256(JSON.stringify(body));
  const options = {
    taskQueue,
    workflowId: workflowIdFor(o.caseId),
    args: [params] as [EscalationInput],
    // A closed case keeps its key: the same key never opens a second case.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    memo: { title: body.title, customerName: body.customer.name, fingerprint, openedAt: params.openedAt },
    typedSearchAttributes: searchAttributesOf(opening),
    staticSummary: caseSummary(body),
    staticDetails: `Customer ${body.customer.name} (${body.customer.segment}), contact ${body.contact.name}, CSM ${body.csm.name}.\n\nImpact: ${body.impact}`,
  };
  return { params, opening, fingerprint, options };
}

/** The one place the API talks to Temporal, through the one client made at start. */
export class EscalationService {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    /** The policy new cases open with; each case keeps its own. */
    private readonly policy: () => Policy,
    /** What new cases may hold. */
    private readonly limits: () => Limits = () => ({ ...DEFAULT_LIMITS }),
    /** Business-hours calendars by name. */
    private readonly calendars: () => Record<string, Calendar> = () => ({}),
    /** The Temporal UI's base (TEMPORAL_UI_URL; npm start's dev server UI): each view links to its workflow there. */
    private readonly temporalUiUrl?: string,
    /** Bytes of case views (as JSON) this process keeps to answer reads again: 0 keeps none. */
    viewCacheBytes = VIEW_CACHE_BYTES,
  ) {
    this.views = viewCacheBytes > 0 ? new LRUCache<string, KeptView>({ maxSize: viewCacheBytes, sizeCalculation: (k) => k.size }) : undefined;
    this.queries = new WorkflowClient({
      connection: client.connection,
      namespace: client.options.namespace,
      dataConverter: client.options.dataConverter,
      interceptors: client.options.interceptors.workflow,
      queryRejectCondition: 'NOT_COMPLETED_CLEANLY',
    });
  }

  /** The same client's connection, its queries refused by workflows that ended outside the playbook. */
  private readonly queries: WorkflowClient;

  /**
   * Views this process has read, by workflow id, each with the run and the history length it was read
   * at. A case's view is a function of its history: while Temporal reports the same run and length, no
   * event has been added, so the view read then is the view now (see `view`).
   */
  private readonly views?: LRUCache<string, KeptView>;

  /** The names of the calendars a case may open with. */
  calendarNames(): string[] {
    return Object.keys(this.calendars());
  }

  /** Opens a case. The same Idempotency-Key always names the same case (and workflow). */
  async open(body: OpenBody, idempotencyKey?: string): Promise<{ created: boolean; case: LinkedView }> {
    const caseId = caseIdFor(body.customer.id, idempotencyKey);
    const policy = this.policy();
    const calendarName = body.calendar ?? policy.calendar;
    const calendar = calendarName ? this.calendars()[calendarName] : undefined;
    if (calendarName && !calendar) {
      const known = Object.keys(this.calendars());
      throw new HttpError(400, 'invalid', `Unknown calendar "${calendarName}"`, [{ field: 'calendar', message: `no such calendar (known: ${known.join(', ') || 'none'})` }]);
    }
    const { params, opening, fingerprint, options } = prepareStart(this.taskQueue, body, { caseId, policy, limits: this.limits(), calendar });
    const opened = () => ({ created: true, case: this.linked(caseView(opening)) });
    try {
      await this.client.workflow.start<(p: EscalationInput) => Promise<CaseView>>(ESCALATION_WORKFLOW, options);
      return opened();
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        // The start may have reached Temporal before the error (a timeout): if this very request made the case, say so.
        const made = await this.client.workflow
          .getHandle(workflowIdFor(caseId))
          .describe()
          .then((d) => d.memo?.fingerprint === fingerprint && d.memo?.openedAt === params.openedAt, () => false);
        if (made) return opened();
        throw err;
      }
      const existing = await this.client.workflow.getHandle(workflowIdFor(caseId)).describe();
      if (existing.memo?.fingerprint !== fingerprint) {
        throw new HttpError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
      }
      return { created: false, case: await this.get(caseId) };
    }
  }

  /** The case view with its link to the Temporal UI (null when no UI address is known). */
  async get(caseId: string): Promise<LinkedView> {
    return this.linked(await this.view(caseId));
  }

  private linked(view: CaseView): LinkedView {
    const base = this.temporalUiUrl?.replace(/\/$/, '');
    const url = base ? `${base}/namespaces/${encodeURIComponent(this.client.options.namespace)}/workflows/${encodeURIComponent(view.workflowId)}` : null;
    return { ...view, temporalUiUrl: url };
  }

  /**
   * A case read twice asks Temporal first where its workflow stands (describe: its run and history
   * length, answered by the server alone) and answers the view it read before when nothing has been
   * added since; else it queries. The position is read before the query, so a view is never kept under
   * a length its state has not reached: the query answers after every event of that length (Temporal
   * holds a query while a workflow task is in flight), and any event added meanwhile changes the length,
   * so the next read queries again. A case read once is not described: its first read is the query alone.
   * One window may stay: were a query answered while an accepted update is applied but not yet written,
   * and the worker died in between, the view would show an update Temporal never recorded; a plain
   * query would show it once, the kept view until the case's next event.
   */
  private async view(caseId: string): Promise<CaseView> {
    const workflowId = workflowIdFor(caseId);
    // A query needs a worker: without one, answer 503 in seconds rather than hang.
    const deadline = Date.now() + QUERY_DEADLINE_MS;
    const bounded = <T>(fn: () => Promise<T>) => this.client.connection.withDeadline(deadline, fn);
    try {
      const kept = this.views?.get(workflowId);
      const at = kept ? await bounded(() => this.positionOf(workflowId)) : undefined;
      if (kept?.view && at && kept.runId === at.runId && kept.length === at.length) return kept.view;
      const view = await this.queried(caseId, workflowId, bounded);
      if (at) this.views?.set(workflowId, { ...at, view, size: JSON.stringify(view).length });
      // Read once: the next read describes first, and keeps what it reads.
      else this.views?.set(workflowId, { runId: '', length: '', size: 64 });
      return view;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(caseId);
      throw err;
    }
  }

  /** The run and the history length Temporal holds for a workflow now. */
  private async positionOf(workflowId: string): Promise<{ runId: string; length: string }> {
    try {
      const d = await this.client.workflowService.describeWorkflowExecution({ namespace: this.client.options.namespace, execution: { workflowId } });
      const info = d.workflowExecutionInfo;
      return { runId: info?.execution?.runId ?? '', length: String(info?.historyLength ?? '') };
    } catch (err) {
      if (isGrpcServiceError(err) && err.code === 5 /* NOT_FOUND */) throw new WorkflowNotFoundError(`No workflow ${workflowId}`, workflowId, undefined);
      throw err;
    }
  }

  /**
   * One query in the common case. The query asks Temporal to refuse it for a workflow that ended other
   * than by completing (terminated, cancelled, failed, timed out): only then, or when the query fails,
   * does the API describe the workflow to say how it ended or to answer a case no worker has run yet.
   */
  private async queried(caseId: string, workflowId: string, bounded: <T>(fn: () => Promise<T>) => Promise<T>): Promise<CaseView> {
    try {
      return await bounded(() => this.queries.getHandle(workflowId).query(getCaseQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw err;
      const described = await bounded(() => this.client.workflow.getHandle(workflowId).describe());
      // Ended outside the playbook: the case as its workflow last held it, read as closed.
      const view =
        err instanceof QueryRejectedError
          ? await bounded(() => this.client.workflow.getHandle(workflowId).query(getCaseQuery)).catch((e: unknown) => this.orOpening(caseId, described, e))
          : await this.orOpening(caseId, described, err);
      return await this.endedOutside(view, described);
    }
  }

  /** A case no worker has run yet (none was up, or it was ended first) is exactly its opening; else the error stands. */
  private async orOpening(caseId: string, d: WorkflowExecutionDescription, err: unknown): Promise<CaseView> {
    const opening = await this.openingIfNeverRun(caseId, d);
    if (!opening) throw err;
    return opening;
  }

  /** The case as it opened, when its workflow never completed a task: computed from its start input. */
  private async openingIfNeverRun(caseId: string, d: WorkflowExecutionDescription): Promise<CaseView | undefined> {
    const page = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: d.workflowId, runId: d.runId },
      maximumPageSize: 20,
    });
    const events = page.history?.events ?? [];
    if (events.some((e) => e.workflowTaskCompletedEventAttributes)) return undefined;
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!input) return undefined;
    const params = this.client.options.loadedDataConverter.payloadConverter.fromPayload<EscalationInput>(input);
    if (params.caseId !== caseId || params.carried) return undefined;
    return caseView(openCase(openingOf(params)).state);
  }

  /**
   * A case whose workflow was terminated (or ended any other way than by closing) reads as closed,
   * with the reason Temporal recorded: nothing ran in the workflow to say so itself.
   */
  private async endedOutside(view: CaseView, d: WorkflowExecutionDescription): Promise<CaseView> {
    const status = d.status.name;
    if (view.status === 'closed' || status === 'RUNNING' || status === 'COMPLETED' || status === 'CONTINUED_AS_NEW') return view;
    let reason = ENDED[status] ?? `Ended in Temporal (${status.toLowerCase()})`;
    if (status === 'TERMINATED') {
      const last = await this.client.workflowService
        .getWorkflowExecutionHistoryReverse({ namespace: this.client.options.namespace, execution: { workflowId: d.workflowId, runId: d.runId }, maximumPageSize: 1 })
        .then((h) => h.history?.events?.[0]?.workflowExecutionTerminatedEventAttributes?.reason, () => undefined);
      if (last) reason = `${reason}: ${last}`;
    }
    const closedAt = d.closeTime ? d.closeTime.toISOString() : null;
    return { ...view, stage: 'closed', status: 'closed', closedAt, closeReason: reason, nextDeadline: null, deadlines: Object.fromEntries(Object.keys(view.deadlines).map((k) => [k, null])) as CaseView['deadlines'], playbook: null };
  }

  /**
   * Applies one playbook action through its update; the workflow's validator answers 409/422. With no
   * worker to take it within QUERY_DEADLINE_MS the answer is 503 (Retry-After): Temporal may still apply
   * it when a worker returns, so a client that retries sends the same `Idempotency-Key`, which becomes
   * the update's id — Temporal applies one update per id.
   */
  async act<T extends ActionType>(caseId: string, type: T, args: ActionArgs<T>, idempotencyKey?: string): Promise<ActionResult> {
    const handle = this.client.workflow.getHandle(workflowIdFor(caseId));
    try {
      const updateId = idempotencyKey ? `${type}-${sha256(`${caseId}\n${type}\n${idempotencyKey}`).slice(0, 32)}` : undefined;
      const result = (await this.client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.executeUpdate(ACTION_UPDATES[type] as (typeof ACTION_UPDATES)['note'], { args: [args as never], ...(updateId ? { updateId } : {}) }),
      )) as ActionResult | LegacyActionResult;
      return 'case' in result ? summaryOfView(result.case, result.warnings) : result;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw err;
      if (err instanceof WorkflowNotFoundError) {
        // Either no such case or a closed one: closed workflows refuse updates.
        const status = await handle.describe().then(
          (d) => d.status.name,
          () => undefined,
        );
        if (status) throw new HttpError(409, 'stage_conflict', 'The case is closed', { stage: 'closed' });
        throw notFound(caseId);
      }
      throw err;
    }
  }

  async list(q: ListQuery): Promise<{ items: ListItem[]; nextCursor: string | null }> {
    const clauses = [`WorkflowType = '${ESCALATION_WORKFLOW}'`];
    if (q.stage) clauses.push(`${SA.stage.name} = '${q.stage}'`);
    if (q.severity) clauses.push(`${SA.severity.name} = '${q.severity}'`);
    // A case whose workflow ended outside the playbook (terminated) still says "open" in its search attributes.
    if (q.status === 'open') clauses.push(`ExecutionStatus = 'Running' AND ${SA.status.name} = 'open'`);
    if (q.status === 'closed') clauses.push(`(ExecutionStatus != 'Running' OR ${SA.status.name} = 'closed')`);
    if (q.customerId) clauses.push(`${SA.customerId.name} = '${quote(q.customerId)}'`);
    if (q.csm) clauses.push(`${SA.csm.name} = '${quote(q.csm)}'`);
    if (q.breached !== undefined) clauses.push(q.breached ? `${SA.breached.name} = true` : `(${SA.breached.name} = false OR ${SA.breached.name} IS NULL)`);
    const query = clauses.join(' AND ');
    if (q.sort === 'nextDeadline') return this.listByDeadline(query, q);
    const token = q.cursor ? readCursor(q.cursor, query) : undefined;
    const page = await this.client.workflowService
      .listWorkflowExecutions({ namespace: this.client.options.namespace, query, pageSize: q.limit, nextPageToken: token })
      .catch((err: { code?: number; message?: string }) => {
        // Temporal refusing a token it made (expired, another server): the cursor is at fault, not the caller's connection.
        if (token && err.code !== undefined && !UNAVAILABLE.has(err.code)) throw badCursor(err.message ?? 'refused by Temporal');
        throw err;
      });
    const next = page.nextPageToken && page.nextPageToken.length > 0 ? writeCursor(Buffer.from(page.nextPageToken), query) : null;
    return { items: (page.executions ?? []).map(listItem), nextCursor: next };
  }

  /**
   * Soonest next deadline first, cases without one last. SQL visibility (the dev server, PostgreSQL)
   * cannot order by a search attribute, so the API reads the matching cases (at most SORT_CAP) and
   * orders them; the cursor is a position in that order.
   */
  private async listByDeadline(query: string, q: ListQuery): Promise<{ items: ListItem[]; nextCursor: string | null }> {
    const all: ListItem[] = [];
    let token: Uint8Array | undefined;
    do {
      const page = await this.client.workflowService.listWorkflowExecutions({ namespace: this.client.options.namespace, query, pageSize: 1000, nextPageToken: token });
      all.push(...(page.executions ?? []).map(listItem));
      token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (token && all.length < SORT_CAP);
    const key = (x: ListItem) => (x.nextDeadline ? Date.parse(x.nextDeadline) : Number.POSITIVE_INFINITY);
    all.sort((a, b) => key(a) - key(b) || a.id.localeCompare(b.id));
    const from = q.cursor ? Number(readCursor(q.cursor, `${query}|sorted`).toString('utf8')) : 0;
    if (!Number.isInteger(from) || from < 0) throw badCursor('not a position');
    const items = all.slice(from, from + q.limit);
    const next = from + q.limit < all.length ? writeCursor(Buffer.from(String(from + q.limit)), `${query}|sorted`) : null;
    return { items, nextCursor: next };
  }

  /** The playbook's four metrics over the cases opened in a period, read from visibility. */
  async report(q: ReportQuery) {
    const clauses = [`WorkflowType = '${ESCALATION_WORKFLOW}'`];
    if (q.from) clauses.push(`${SA.openedAt.name} >= '${q.from}'`);
    if (q.to) clauses.push(`${SA.openedAt.name} < '${q.to}'`);
    if (q.segment) clauses.push(`${SA.segment.name} = '${q.segment}'`);
    if (q.severity) clauses.push(`${SA.severity.name} = '${q.severity}'`);
    const facts: CaseFacts[] = [];
    let token: Uint8Array | undefined;
    do {
      const page = await this.client.workflowService.listWorkflowExecutions({
        namespace: this.client.options.namespace,
        query: clauses.join(' AND '),
        pageSize: 1000,
        nextPageToken: token,
      });
      for (const e of page.executions ?? []) facts.push(factsOf(decodeTypedSearchAttributes(e.searchAttributes?.indexedFields)));
      token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (token);
    return { period: { from: q.from ?? null, to: q.to ?? null }, filters: { segment: q.segment ?? null, severity: q.severity ?? null }, ...escalationReport(facts, this.policy()) };
  }

  /** Whether Temporal answers. */
  async healthy(): Promise<boolean> {
    try {
      await this.client.workflowService.getSystemInfo({});
      return true;
    } catch {
      return false;
    }
  }
}

const QUERY_DEADLINE_MS = 15_000;
/** The API keeps up to this many bytes of case views (as JSON) to answer repeated reads (README). */
export const VIEW_CACHE_BYTES = 32 * 1024 * 1024;
/** A view kept with the position it was read at; a case read once has only its mark (no view). */
type KeptView = { runId: string; length: string; view?: CaseView; size: number };
/** At most this many cases are ordered by next deadline in one list (README). */
export const SORT_CAP = 2_000;

/**
 * Cursors are Temporal's page token with a checksum of the filters they belong to: anything else is a
 * 400 before Temporal sees it, and a cursor cannot be replayed against other filters.
 */
const checksum = (token: string, query: string) => sha256(`${query}\n${token}`).slice(0, 16);
function writeCursor(token: Buffer, query: string): string {
  const t = token.toString('base64url');
  return `${t}.${checksum(t, query)}`;
}
function readCursor(cursor: string, query: string): Buffer {
  const [t, sum] = cursor.split('.');
  if (!t || sum !== checksum(t, query)) throw badCursor('not a cursor from this API for these filters');
  return Buffer.from(t, 'base64url');
}
const badCursor = (why: string) => new HttpError(400, 'invalid_input', 'The cursor is not valid', [{ field: 'cursor', message: why }]);
type ListItem = ReturnType<typeof listItem>;

/** How a workflow that ended outside the playbook reads on its case. */
const ENDED: Record<string, string> = {
  TERMINATED: 'Terminated in Temporal',
  CANCELLED: CANCELLED_IN_TEMPORAL,
  CANCELED: CANCELLED_IN_TEMPORAL,
  FAILED: 'The workflow failed in Temporal',
  TIMED_OUT: 'The workflow timed out in Temporal',
};
const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
const COMPLETED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;
const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(temporal.api.enums.v1.WorkflowExecutionStatus).map(([k, v]) => [v, k.replace('WORKFLOW_EXECUTION_STATUS_', '')]),
);

/** Lower-case words of a text joined by '-', at most 40 characters ("Acme Corp (EU)" → "acme-corp-eu"). */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'case';
}

/**
 * A new case's id, readable in the Temporal UI (`escalation-<id>`): the customer's slug and a random
 * part; with an Idempotency-Key, the key's slug and a part derived from the key alone, so the same key
 * always names the same case.
 */
export function caseIdFor(customerId: string, idempotencyKey?: string): string {
  return idempotencyKey ? `${slug(idempotencyKey)}-${sha256(idempotencyKey).slice(0, 10)}` : `${slug(customerId)}-${randomBytes(5).toString('hex')}`;
}

/** The case's search attributes as the workflow publishes them (nulls and empty lists left out). */
function searchAttributesOf(state: CaseState): SearchAttributePair[] {
  const values = visibilityOf(state);
  return Object.entries(SA)
    .map(([name, key]) => ({ key, value: values[name as keyof typeof values] }))
    .filter((p) => p.value != null && !(Array.isArray(p.value) && p.value.length === 0)) as SearchAttributePair[];
}

/** What cases still running older code answer to an action: the whole view. */
interface LegacyActionResult {
  case: CaseView;
  warnings: ActionResult['warnings'];
}

function summaryOfView(view: CaseView, warnings: ActionResult['warnings']): ActionResult {
  return { id: view.id, stage: view.stage, status: view.status, severity: view.severity, deadlines: view.deadlines, paused: view.paused ?? null, warnings };
}
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const quote = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

type Execution = temporal.api.workflow.v1.IWorkflowExecutionInfo;

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
  const statusName = STATUS_NAMES[e.status ?? 0] ?? 'UNKNOWN';
  return {
    id: workflowId.replace(/^escalation-/, ''),
    workflowId,
    title: (memo.title as string) ?? null,
    customer: { id: sa.get(SA.customerId) ?? null, name: (memo.customerName as string) ?? null, segment: sa.get(SA.segment) ?? null },
    stage: endedOutside ? 'closed' : (sa.get(SA.stage) ?? null),
    status: endedOutside ? 'closed' : (sa.get(SA.status) ?? null),
    closeReason: endedOutside ? (ENDED[statusName] ?? `Ended in Temporal (${statusName.toLowerCase()})`) : null,
    severity: sa.get(SA.severity) ?? null,
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
