/** `npm run bench`, part case: events, bytes and replay time of saved cases, as rules 4 ran them and as today's rules do. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { RULES_VERSION } from '../../playbook';
import { WORKFLOW_SOURCE } from '../../worker/workflow-source';
import { type Bench } from './harness';

export async function savedCases(b: Bench): Promise<void> {
  const { out } = b;
  // The same cases (the same plays) as rules 4 ran them and as today's rules run them: the playbook's
  // path in ten actions, open to closed, and a longer case with sixteen.
  for (const name of ['rules-4-ten-actions-case', `rules-${RULES_VERSION}-ten-actions-case`, 'panel-full-case', `rules-${RULES_VERSION}-full-case`]) {
    const file = join(__dirname, '..', '..', 'test', 'histories', `${name}.json`);
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(file, 'utf8')));
    const events = history.events ?? [];
    const updates = events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length;
    const t = performance.now();
    await Worker.runReplayHistory(WORKFLOW_SOURCE, history, `bench-replay-${name}`);
    const replayMs = performance.now() - t;
    // Where the events go: each kind's count and share of the history's bytes.
    const E = temporal.api.enums.v1.EventType;
    const kinds: [string, number[]][] = [
      ['workflow tasks', [E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, E.EVENT_TYPE_WORKFLOW_TASK_STARTED, E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]],
      ['activities (sends)', [E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, E.EVENT_TYPE_ACTIVITY_TASK_STARTED, E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, E.EVENT_TYPE_ACTIVITY_TASK_FAILED]],
      ['timers', [E.EVENT_TYPE_TIMER_STARTED, E.EVENT_TYPE_TIMER_FIRED, E.EVENT_TYPE_TIMER_CANCELED]],
      ['updates', [E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED]],
      ['search-attribute upserts', [E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]],
      ['markers (local sends, Slack panel refreshes, patches)', [E.EVENT_TYPE_MARKER_RECORDED]],
    ];
    const size = (e: (typeof events)[number]) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
    const total = events.reduce((t, e) => t + size(e), 0);
    const profile = kinds.map(([kind, types]) => {
      const mine = events.filter((e) => types.includes(e.eventType as number));
      return `${kind} ${mine.length} (${((100 * mine.reduce((t, e) => t + size(e), 0)) / total).toFixed(0)}% of bytes)`;
    });
    const rules = Number(/"rulesVersion":(\d+)/.exec(Buffer.from(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data ?? []).toString())?.[1] ?? 0);
    out(`a case (test/histories/${name}.json, rules ${rules}, ${updates} updates): ${events.length} events (${(events.length / updates).toFixed(1)} per update), ${(total / 1024).toFixed(0)} KiB as Temporal stores them (${(statSync(file).size / 1024).toFixed(0)} KiB of JSON), replayed in ${replayMs.toFixed(0)} ms (a worker's bundle included)`);
    out(`      where the events go: ${profile.join(', ')}`);
  }
}
