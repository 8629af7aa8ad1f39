/**
 * The one place the API talks to Temporal, through the one client made at start: opening a case
 * (its start prepared here), acting on it, and reads and queries through the reader (api/case-reader.ts)
 * and visibility (api/visibility.ts).
 */
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type SearchAttributePair } from '@temporalio/common';
import {
  DEFAULT_LIMITS,
  RULES_VERSION,
  caseSummary,
  caseView,
  openCase,
  visibilityOf,
  workflowIdFor,
  type ActionArgs,
  type ActionType,
  type Calendar,
  type CaseInput,
  type CaseState,
  type CaseView,
  type Limits,
  type Policy,
} from '../playbook';
import { ACTION_UPDATES, ESCALATION_WORKFLOW, FAILURE_TYPES, SA, openingOf, type ActionResult, type EscalationInput } from '../workflows/messages';
import { HttpError, UNPROCESSED_UPDATE, notFound } from './errors';
import { caseIdFor, sha256 } from './case-ids';
import { CaseReader, QUERY_DEADLINE_MS, VIEW_CACHE_BYTES, type Stale } from './case-reader';
import { CaseQueries, type TeamScope } from './visibility';
import type { CaseTeams } from './access';
import { DEFAULT_TEAM, Teams, type Team } from '../config/teams';
import type { ListQuery, OpenBody, ReportQuery } from './schemas';

export { caseIdFor, slug } from './case-ids';
export { VIEW_CACHE_BYTES } from './case-reader';
export { SORT_CAP } from './visibility';

/** The case view as the API answers it: with its link to the Temporal UI. */
/**
 * The case view the API answers: with its link to the Temporal UI, and `stale` set when it is an earlier
 * read answered because the worker did not answer in time (null: the case as its workflow holds it now).
 */
export type LinkedView = CaseView & { temporalUiUrl: string | null; stale: Stale | null };

/**
 * A case's start: its input, the case as the workflow will open it (the state machine is pure, so the
 * API answers without a worker), and the start request with its memo (what the list shows), search
 * attributes (listed and filtered from the first moment, before or without any worker running it) and
 * the UI's summary.
 */
export function prepareStart(taskQueue: string, body: OpenBody, o: { caseId: string; policy: Policy; limits: Limits; calendar?: Calendar; team?: string }) {
  const { calendar: _named, team: _team, ...input } = body;
  const params: EscalationInput = {
    caseId: o.caseId,
    input: input satisfies CaseInput,
    policy: o.policy,
    rulesVersion: RULES_VERSION,
    limits: o.limits,
    openedAt: new Date().toISOString(),
    ...(o.calendar ? { calendar: o.calendar } : {}),
    ...(o.team ? { team: o.team } : {}),
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

export interface ServiceOptions {
  client: Client;
  taskQueue: string;
  /** The policy new cases open with; each case keeps its own. */
  policy: () => Policy;
  /** What new cases may hold (default: the defaults). */
  limits?: () => Limits;
  /** Business-hours calendars by name. */
  calendars?: () => Record<string, Calendar>;
  /** The teams (default: one, `default`, with `policy`): an open goes to one and takes its policy and calendar. */
  teams?: () => Teams;
  /** The Temporal UI's base (TEMPORAL_UI_URL; npm start's dev server UI): each view links to its workflow there. */
  temporalUiUrl?: string;
  /** Bytes of case views (as JSON) this process keeps to answer reads again: 0 keeps none. */
  viewCacheBytes?: number;
}

export class EscalationService {
  private readonly reader: CaseReader;
  private readonly queries: CaseQueries;

  constructor(private readonly o: ServiceOptions) {
    this.reader = new CaseReader(o.client, o.viewCacheBytes ?? VIEW_CACHE_BYTES);
    this.queries = new CaseQueries(o.client, o.policy);
  }

  private limits(): Limits {
    return this.o.limits?.() ?? { ...DEFAULT_LIMITS };
  }

  private calendars(): Record<string, Calendar> {
    return this.o.calendars?.() ?? {};
  }

  teams(): Teams {
    return this.o.teams?.() ?? Teams.single({ roster: {}, slackChannel: undefined, policy: this.o.policy() });
  }

  /** The team an open goes to: the one it names, else the configured default; 400 when unknown or none. */
  teamForOpen(named: string | undefined): Team {
    const teams = this.teams();
    const id = named ?? teams.openDefault;
    if (id === undefined) throw new HttpError(400, 'invalid_input', 'Name the team the case belongs to', [{ field: 'team', message: `required: there is more than one team (known: ${teams.ids.join(', ')})` }]);
    if (!teams.has(id)) throw unknownTeam(id, teams, 'team');
    return teams.get(id);
  }

  /** A list's or report's team filter: a configured team, or `default` (the cases of before teams); 400 otherwise. */
  requireFilterTeam(id: string | undefined): void {
    const teams = this.teams();
    if (id !== undefined && id !== DEFAULT_TEAM && !teams.has(id)) throw unknownTeam(id, teams, 'team');
  }

  /** A transfer's target must be a configured team (400 listing them otherwise). */
  requireTeam(id: string, field: string): void {
    const teams = this.teams();
    if (!teams.has(id)) throw unknownTeam(id, teams, field);
  }

  /**
   * The case's team and the teams it left (what access decides by), from its search attributes;
   * undefined when no such case. A case opened before teams has none: `default`.
   */
  async teamsOf(caseId: string): Promise<CaseTeams | undefined> {
    try {
      const d = await this.o.client.workflow.getHandle(workflowIdFor(caseId)).describe();
      const team = d.typedSearchAttributes.get(SA.team) ?? DEFAULT_TEAM;
      return { team, formerTeams: (d.typedSearchAttributes.get(SA.readers) ?? []).filter((t) => t !== team) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Opens a case. The same Idempotency-Key always names the same case (and workflow). */
  async open(body: OpenBody, idempotencyKey?: string, team: Team = this.teamForOpen(body.team)): Promise<{ created: boolean; case: LinkedView }> {
    const caseId = caseIdFor(body.customer.id, idempotencyKey);
    const policy = team.policy;
    const calendarName = body.calendar ?? team.calendar ?? policy.calendar;
    const calendar = calendarName ? this.calendars()[calendarName] : undefined;
    if (calendarName && !calendar) {
      const known = Object.keys(this.calendars());
      throw new HttpError(400, 'invalid', `Unknown calendar "${calendarName}"`, [{ field: 'calendar', message: `no such calendar (known: ${known.join(', ') || 'none'})` }]);
    }
    const { params, opening, fingerprint, options } = prepareStart(this.o.taskQueue, body, { caseId, policy, limits: this.limits(), calendar, team: team.id });
    const opened = () => ({ created: true, case: this.linked(caseView(opening)) });
    try {
      await this.o.client.workflow.start<(p: EscalationInput) => Promise<CaseView>>(ESCALATION_WORKFLOW, options);
      return opened();
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
        // The start may have reached Temporal before the error (a timeout): if this very request made the case, say so.
        const made = await this.o.client.workflow
          .getHandle(workflowIdFor(caseId))
          .describe()
          .then((d) => d.memo?.fingerprint === fingerprint && d.memo?.openedAt === params.openedAt, () => false);
        if (made) return opened();
        throw err;
      }
      const existing = await this.o.client.workflow.getHandle(workflowIdFor(caseId)).describe();
      if (existing.memo?.fingerprint !== fingerprint) {
        throw new HttpError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
      }
      return { created: false, case: await this.get(caseId) };
    }
  }

  /** The case view with its link to the Temporal UI (null when no UI address is known). */
  async get(caseId: string): Promise<LinkedView> {
    const read = await this.reader.view(caseId);
    return this.linked(read.view, read.stale);
  }

  private linked(view: CaseView, stale: Stale | null = null): LinkedView {
    const base = this.o.temporalUiUrl?.replace(/\/$/, '');
    const url = base ? `${base}/namespaces/${encodeURIComponent(this.o.client.options.namespace)}/workflows/${encodeURIComponent(view.workflowId)}` : null;
    return { ...view, temporalUiUrl: url, stale };
  }

  /**
   * Applies one playbook action through its update; the workflow's validator answers 409/422. With no
   * worker to take it within QUERY_DEADLINE_MS the answer is 503 (Retry-After): Temporal may still apply
   * it when a worker returns, so a client that retries sends the same `Idempotency-Key`, which becomes
   * the update's id — Temporal applies one update per id.
   */
  async act<T extends ActionType>(caseId: string, type: T, args: ActionArgs<T>, idempotencyKey?: string): Promise<ActionResult> {
    const handle = this.o.client.workflow.getHandle(workflowIdFor(caseId));
    try {
      const updateId = idempotencyKey ? `${type}-${sha256(`${caseId}\n${type}\n${idempotencyKey}`).slice(0, 32)}` : undefined;
      const deadline = Date.now() + QUERY_DEADLINE_MS;
      const result = (await whileMoving(deadline, () =>
        this.o.client.connection.withDeadline(deadline, () =>
          handle.executeUpdate(ACTION_UPDATES[type] as (typeof ACTION_UPDATES)['note'], { args: [args as never], ...(updateId ? { updateId } : {}) }),
        ),
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

  /** The cases of the teams in `scope` (every team: `*`). */
  list(q: ListQuery, scope: TeamScope = '*') {
    return this.queries.list(q, scope);
  }

  /** The playbook's four metrics over the cases opened in a period, read from visibility. */
  report(q: ReportQuery, scope: TeamScope = '*') {
    return this.queries.report(q, scope);
  }

  /** Whether Temporal answers. */
  async healthy(): Promise<boolean> {
    try {
      await this.o.client.workflowService.getSystemInfo({});
      return true;
    } catch {
      return false;
    }
  }
}

function unknownTeam(id: string, teams: Teams, field: string): HttpError {
  return new HttpError(400, 'invalid_input', `Unknown team "${id}"`, [{ field, message: `no such team (known: ${teams.ids.join(', ')})` }]);
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

/** The least time left for another try of a refused action (whileMoving): a round trip's worth, with room. */
const LAST_TRY_MS = 1_000;

/**
 * Runs an action, again while it is refused without being applied, until `deadline`: while the case
 * answers that its run is moving to a new one (FAILURE_TYPES.moving: the run took its budget of actions
 * and finishes its sends first, a second or so), or Temporal rejects it because the worker completed the
 * workflow task that carried it without answering it (UNPROCESSED_UPDATE: seen once in the monday bench,
 * on a case its worker had evicted). A rejected update leaves nothing in the case, so trying again is safe.
 */
export async function whileMoving<T>(deadline: number, run: () => Promise<T>): Promise<T> {
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await run();
    } catch (err) {
      const refused = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && (err.cause.type === FAILURE_TYPES.moving || err.cause.type === UNPROCESSED_UPDATE);
      // No try that the deadline would cut short: the answer is then the refusal, which says why.
      if (!refused || Date.now() + wait + LAST_TRY_MS >= deadline) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
