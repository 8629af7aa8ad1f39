import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DEFAULT_LIMITS, TEXT_LIMITS } from '../../playbook';
import { whileMoving } from '../../api/service';
import { RUN_BUDGET } from '../../workflows/escalation';
import { ACTION_UPDATES, getCaseQuery } from '../../workflows/messages';
import { caseInput } from '../helpers/fixtures';
import { recordingActivities, runCase, timeSkippingSuite } from '../helpers/workflow-harness';

const t = timeSkippingSuite();

/**
 * Temporal's limits, and the tenth of them the largest legitimate case must stay under. A query's
 * answer (the whole view) is not stored in history: gRPC's 4 MB message limit is the one it meets.
 */
const TEMPORAL = { payloadBytes: 2 * 1024 * 1024, historyEvents: 50_000, historyBytes: 50 * 1024 * 1024, updatesPerRun: 2_000, grpcMessageBytes: 4 * 1024 * 1024 };
const TENTH = Object.fromEntries(Object.entries(TEMPORAL).map(([k, v]) => [k, v / 10])) as typeof TEMPORAL;

/** Every payload in an event, wherever it sits (inputs, results, update requests and outcomes, memos). */
function payloadSizes(node: unknown, out: number[] = []): number[] {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const x of node) payloadSizes(x, out);
    return out;
  }
  const o = node as Record<string, unknown>;
  if (Array.isArray(o.payloads)) {
    for (const p of o.payloads as temporal.api.common.v1.IPayload[]) out.push(temporal.api.common.v1.Payload.encode(p).finish().length);
  }
  for (const [k, v] of Object.entries(o)) if (k !== 'payloads' && v && typeof v === 'object' && !(v instanceof Uint8Array)) payloadSizes(v, out);
  return out;
}

/** A run's history, read over a connection that takes messages larger than gRPC's default 4 MB (the test server sends one page). */
async function fetchHistory(workflowId: string, runId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const connection = await Connection.connect({
    address: t.env.connection.options.address,
    channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
  });
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  try {
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: t.env.namespace ?? 'default',
      execution: { workflowId, runId },
      maximumPageSize: 100,
      nextPageToken,
    });
      events.push(...(page.history?.events ?? []));
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
  } finally {
    await connection.close();
  }
  return events;
}

const DAYS = 365;
const at = (n: number) => 'x'.repeat(n);

test(`the largest legitimate case — a year of daily updates and notes at the limits — stays under a tenth of Temporal's limits`, async () => {
  const { activities } = recordingActivities();
  // Notes share the stored-text budget: a year of daily notes at the limit is this long each.
  const noteChars = Math.floor(DEFAULT_LIMITS.storedTextChars / DAYS) - 10;
  const runs: { events: number; bytes: number; updates: number; largestPayload: number }[] = [];
  let viewBytes = 0;
  await runCase(t.env, t.code, { input: caseInput({ severity: 'high', description: at(TEXT_LIMITS.description) }), activities }, async (h) => {
    const now = async (hours: number) => new Date(Number(await t.env.currentTimeMs()) + hours * 3_600_000).toISOString();
    // As the API sends an action: again while the case's full run finishes its sends and moves to the next.
    const act = <T>(run: () => Promise<T>) => whileMoving(Date.now() + 60_000, run);
    const firstUpdateAt = await now(20);
    await act(() => h.executeUpdate(ACTION_UPDATES.acknowledge, { args: [{ nextUpdateAt: firstUpdateAt, note: at(TEXT_LIMITS.long) }] }));
    for (let day = 0; day < DAYS; day++) {
      const nextUpdateAt = await now(25);
      await act(() =>
        h.executeUpdate(ACTION_UPDATES.update, {
          args: [{ known: at(TEXT_LIMITS.long), unknown: at(TEXT_LIMITS.long), doing: at(TEXT_LIMITS.long), workaround: at(TEXT_LIMITS.long), eta: at(500), nextUpdateAt }],
        }),
      );
      await act(() => h.executeUpdate(ACTION_UPDATES.note, { args: [{ text: at(noteChars), kind: 'investigation' }] }));
      await t.env.sleep('1d');
    }
    const view = await h.query(getCaseQuery);
    viewBytes = Buffer.byteLength(JSON.stringify(view));
    expect(view.updates).toBe(DAYS);
    expect(view.notes).toHaveLength(DAYS);
    expect(view.stage).toBe('communicate');
    expect(view.breaches).toEqual([]);

    // Every run of the case, first to last.
    let runId: string | undefined = h.firstExecutionRunId;
    while (runId) {
      const events = await fetchHistory(h.workflowId, runId);
      const history = temporal.api.history.v1.History.create({ events });
      const sizes = events.flatMap((e) => payloadSizes(e));
      runs.push({
        events: events.length,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
        updates: events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
        largestPayload: Math.max(...sizes),
      });
      runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  });
  const largest = {
    runs: runs.length,
    events: Math.max(...runs.map((r) => r.events)),
    bytes: Math.max(...runs.map((r) => r.bytes)),
    updates: Math.max(...runs.map((r) => r.updates)),
    largestPayload: Math.max(...runs.map((r) => r.largestPayload)),
    viewBytes,
  };
  console.log(`year-long case: ${JSON.stringify(largest)}; per run: ${JSON.stringify(runs)}`);
  expect(runs.length).toBeGreaterThan(1);
  expect(largest.events).toBeLessThan(TENTH.historyEvents);
  expect(largest.bytes).toBeLessThan(TENTH.historyBytes);
  expect(largest.updates).toBeLessThanOrEqual(RUN_BUDGET.updates);
  expect(largest.updates).toBeLessThan(TENTH.updatesPerRun);
  expect(largest.largestPayload).toBeLessThan(TENTH.payloadBytes);
  expect(viewBytes).toBeLessThan(TENTH.grpcMessageBytes);
}, 600_000);
