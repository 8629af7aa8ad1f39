/**
 * Reading a case: a query of its workflow, answered again from the view this process kept while
 * Temporal reports the same run and history length; a case no worker has run yet read from its start
 * input; a case whose workflow ended outside the playbook read as closed, with the reason. When events
 * were added since a kept view and the worker does not answer within READ_PATIENCE_MS (a burst of
 * deadlines saturating it), the kept view is answered marked stale, with the time it was read, and
 * the query is cancelled (the next read asks again).
 */
import { LRUCache } from 'lru-cache';
import { Client, isGrpcServiceError, QueryRejectedError, ServiceError, WorkflowClient, type WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { caseView, openCase, workflowIdFor, type CaseView } from '../playbook';
import { getCaseQuery, openingOf, type EscalationInput } from '../workflows/messages';
import { HttpError, notFound } from './errors';
import { endedReason } from './ended-outside';

export const QUERY_DEADLINE_MS = 15_000;
/** The API keeps up to this many bytes of case views (as JSON) to answer repeated reads (README). */
export const VIEW_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * How long a read waits for the worker before it answers a view kept from an earlier read, marked stale
 * (README: reads during a burst). A case with no kept view waits for the query (QUERY_DEADLINE_MS).
 */
export const READ_PATIENCE_MS = 750;
/** A view kept with the position it was read at (none known for a case read once) and when it was read. */
type KeptView = { runId: string; length: string; view: CaseView; readAt: string; size: number };
/** Why a view is not the case now: answered from an earlier read because the worker was busy. */
export interface Stale {
  /** When the view answered was read from the case's workflow. */
  readAt: string;
  note: string;
}
/** A case view and, when it is an earlier read answered because the worker did not answer in time, how old. */
export type ReadView = { view: CaseView; stale: Stale | null };

export class CaseReader {
  constructor(
    private readonly client: Client,
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

  /**
   * A case read twice asks Temporal first where its workflow stands (describe: its run and history
   * length, answered by the server alone) and answers the view it read before when nothing has been
   * added since; else it queries. The position is read before the query, so a view is never kept under
   * a length its state has not reached: the query answers after every event of that length (Temporal
   * holds a query while a workflow task is in flight), and any event added meanwhile changes the length,
   * so the next read queries again. A case read once is not described: its first read is the query alone.
   * When the position moved and the query is not answered within `patienceMs`, the view read before is
   * answered marked stale (when it was read), never passed off as the case now.
   * One window may stay: were a query answered while an accepted update is applied but not yet written,
   * and the worker died in between, the view would show an update Temporal never recorded; a plain
   * query would show it once, the kept view until the case's next event.
   */
  async view(caseId: string, patienceMs = READ_PATIENCE_MS): Promise<ReadView> {
    const workflowId = workflowIdFor(caseId);
    // A query needs a worker: without one, answer 503 in seconds rather than hang.
    const deadline = Date.now() + QUERY_DEADLINE_MS;
    const bounded = <T>(fn: () => Promise<T>) => this.client.connection.withDeadline(deadline, fn);
    try {
      const kept = this.views?.get(workflowId);
      const at = kept ? await bounded(() => this.positionOf(workflowId)) : undefined;
      if (kept && at && kept.runId === at.runId && kept.length === at.length) return { view: kept.view, stale: null };
      const readAt = new Date().toISOString();
      // A read answered stale cancels its query: nothing of it stays in flight after the answer (no call
      // retried later on a connection closed meanwhile), and the next read asks again.
      const cancel = new AbortController();
      const querying = this.client.connection.withAbortSignal(cancel.signal, () => this.queried(caseId, workflowId, bounded)).then((view) => {
        // Kept with the position read before the query (none on a first read: the next read describes first).
        this.views?.set(workflowId, { runId: at?.runId ?? '', length: at?.length ?? '', view, readAt, size: JSON.stringify(view).length });
        return view;
      });
      if (!kept) return { view: await querying, stale: null };
      const answer = await Promise.race([querying, new Promise<undefined>((r) => setTimeout(() => r(undefined), patienceMs).unref())]);
      if (answer) return { view: answer, stale: null };
      // The worker is behind: this read answers what was read before, and its query is cancelled.
      querying.catch(() => undefined);
      cancel.abort();
      return { view: kept.view, stale: { readAt: kept.readAt, note: `the worker did not answer within ${patienceMs} ms: newer events are not shown yet; reload in a moment` } };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(caseId);
      const failing = failingWorkflow(err);
      if (!failing) throw err;
      // The case's workflow cannot run on the worker: the view read before, if any, saying why; else a 503 that does.
      const kept = this.views?.get(workflowId);
      if (kept) return { view: kept.view, stale: { readAt: kept.readAt, note: `its ${failing}; newer events are not shown until it is fixed` } };
      throw new HttpError(503, 'case_unavailable', `This case cannot be read now: its ${failing}. It needs an operator: fix the worker's code or reset the case (see it in the Temporal UI).`, undefined, { 'Retry-After': '60' });
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
    let reason = endedReason(status);
    if (status === 'TERMINATED') {
      const last = await this.client.workflowService
        .getWorkflowExecutionHistoryReverse({ namespace: this.client.options.namespace, execution: { workflowId: d.workflowId, runId: d.runId }, maximumPageSize: 1 })
        .then((h) => h.history?.events?.[0]?.workflowExecutionTerminatedEventAttributes?.reason, () => undefined);
      if (last) reason = `${reason}: ${last}`;
    }
    const closedAt = d.closeTime ? d.closeTime.toISOString() : null;
    return { ...view, stage: 'closed', status: 'closed', closedAt, closeReason: reason, nextDeadline: null, deadlines: Object.fromEntries(Object.keys(view.deadlines).map((k) => [k, null])) as CaseView['deadlines'], playbook: null };
  }
}

/**
 * Why a case's workflow cannot answer, when that is the case and not the caller or the connection: the
 * worker's code does not replay its history (the query fails there), or a workflow task of it failed
 * (Temporal refuses queries until one completes).
 */
function failingWorkflow(err: unknown): string | undefined {
  const message = (e: unknown) => (e instanceof Error ? e.message : '');
  if (/TMPRL1100|nondeterminism/i.test(message(err))) return "history does not replay against the worker's code (nondeterminism)";
  const cause = err instanceof ServiceError ? err.cause : err;
  if (isGrpcServiceError(cause) && cause.code === 9 /* FAILED_PRECONDITION */ && /workflow task in failed state/i.test(cause.details ?? '')) {
    return 'workflow task is failing on the worker (Temporal answers no query until one completes)';
  }
  return undefined;
}
