/**
 * `npm run replay`: before deploying a change to the workflow, replay the histories of real cases — open
 * ones and those that closed recently — from a namespace against the working tree's workflow code
 * (Temporal's own advice for long-lived workflows). Exits non-zero, naming each case, when today's code
 * would not replay a case as it ran (a change that needs `patched()` or a new rules version).
 *   REPLAY_LIMIT (default 200) cases, REPLAY_CLOSED_DAYS (default 14) of closed ones; the usual
 *   TEMPORAL_* variables and temporal.toml profiles say where.
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { connectToTemporal } from '../config/connect';
import { createLogger } from '../config/logger';
import { temporalConnectConfig } from '../config/temporal';
import { ESCALATION_WORKFLOW } from '../workflows/messages';
import { WORKFLOW_SOURCE } from '../worker/workflow-source';

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info', 'replay');
  const limit = Number(process.env.REPLAY_LIMIT ?? 200);
  const days = Number(process.env.REPLAY_CLOSED_DAYS ?? 14);
  const connect = temporalConnectConfig();
  const connection = await connectToTemporal(connect, logger);
  const client = new Client({ connection, namespace: connect.namespace });
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  const query = `WorkflowType = '${ESCALATION_WORKFLOW}' AND (ExecutionStatus = 'Running' OR CloseTime > '${since}')`;

  let replayed = 0;
  const failed: { workflowId: string; runId: string; error: string }[] = [];
  const histories = client.workflow.list({ query, pageSize: Math.min(limit, 100) }).intoHistories({ concurrency: 4 });
  async function* upTo(n: number) {
    let i = 0;
    for await (const h of histories) {
      if (i++ >= n) return;
      yield h;
    }
  }
  for await (const r of Worker.runReplayHistories(WORKFLOW_SOURCE, upTo(limit))) {
    replayed++;
    if (r.error) failed.push({ workflowId: r.workflowId, runId: r.runId, error: r.error.message.split('\n')[0] });
  }
  await connection.close();
  for (const f of failed) logger.error(f, `does not replay: ${f.workflowId}`);
  const summary = { namespace: connect.namespace, replayed, failed: failed.length, query };
  if (failed.length) {
    logger.error(summary, `${failed.length} of ${replayed} cases would not replay against this code: do not deploy it as is`);
    process.exit(1);
  }
  logger.info(summary, `${replayed} cases replay against this code`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
