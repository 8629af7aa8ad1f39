import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker as Thread } from 'node:worker_threads';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ClientConnectConfig } from '@temporalio/envconfig';
import { createActivities } from '../activities';
import { OutboxMailer, SmtpMailer } from '../activities/email';
import { Renderer } from '../activities/render';
import { SlackWebApiPoster } from '../activities/slack';
import type { EscalationConfig, Env } from '../config/settings';
import type { Logger } from '../config/logger';
import type { Metrics } from '../config/metrics';
import { ensureSearchAttributes } from './search-attributes';
import { connectToTemporal } from '../config/connect';
import { bundleInChildProcess } from './bundle';
import { NO_STACK_TRACES_PRELOAD, withWorkflowThreadPreload } from './workflow-threads';

/** The activities' clients, built from config: SMTP or the outbox, Slack or off. */
export function activitiesFromConfig(env: Env, config: EscalationConfig, linkSecret: string, logger?: Logger, metrics?: Metrics) {
  const mailer = env.SMTP_URL ? new SmtpMailer(env.SMTP_URL) : new OutboxMailer(join(env.DATA_DIR, 'outbox'));
  return createActivities({
    mailer,
    slack: env.SLACK_BOT_TOKEN ? new SlackWebApiPoster(env.SLACK_BOT_TOKEN, env.SLACK_API_URL) : undefined,
    teams: config.teams,
    renderer: new Renderer(config.templatesDir),
    emailFrom: env.EMAIL_FROM,
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`,
    linkSecret,
    logger,
    metrics,
    webhooks: config.webhooks,
  });
}

/** The worker's cache settings from the environment. */
export function cacheFromEnv(env: Env) {
  return { maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS, stickyTimeoutMs: env.WORKER_STICKY_TIMEOUT_MS, workflowHeapMb: env.WORKER_WORKFLOW_HEAP_MB };
}

/**
 * The SDK's worker options for a cache setting (cacheFromEnv): the cache, the workflow tasks run at once
 * and the sticky queue's timeout. Also the bench's floor worker's (scripts/bench/floor/worker.ts).
 */
export function cacheOptions(cache: { maxCachedWorkflows: number; stickyTimeoutMs: number }) {
  return {
    maxCachedWorkflows: cache.maxCachedWorkflows,
    // A step can't run in more cases at once than the cache holds (the SDK's rule; 0 turns caching off).
    ...(cache.maxCachedWorkflows > 0 ? { maxConcurrentWorkflowTaskExecutions: Math.max(2, Math.min(40, cache.maxCachedWorkflows)) } : {}),
    stickyQueueScheduleToStartTimeout: cache.stickyTimeoutMs,
  };
}

/** Connects, registers missing search attributes and creates the worker (not yet running). */
export async function createEscalationWorker(p: {
  connect: ClientConnectConfig & { namespace: string };
  taskQueue: string;
  activities: ReturnType<typeof createActivities>;
  logger: Logger;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /**
   * The workflow cache, the sticky queue and the workflow thread's heap limit (WORKER_MAX_CACHED_WORKFLOWS,
   * WORKER_STICKY_TIMEOUT_MS, WORKER_WORKFLOW_HEAP_MB).
   */
  cache?: { maxCachedWorkflows: number; stickyTimeoutMs: number; workflowHeapMb?: number };
  /** Stops waiting for Temporal (Ctrl-C before it answered). */
  signal?: AbortSignal;
  /**
   * The SDK's per-promise stack traces in workflows (WORKER_STACK_TRACES; off unless true): the Temporal
   * UI's "Stack Trace" tab, at about 30% of the workflow thread's CPU (worker/workflow-thread-preload.cjs).
   */
  stackTraces?: boolean;
}): Promise<{ worker: Worker; connection: NativeConnection; threadHeapLimitMb?: number }> {
  // Bundled in a child process, while the worker waits for Temporal (worker/bundle.ts).
  const bundling = p.workflowBundle ? Promise.resolve(p.workflowBundle) : bundleInChildProcess();
  bundling.catch(() => {}); // awaited below; a failure is thrown there, not left unhandled meanwhile
  // Temporal may not be up yet (compose, a rollout): wait for it with backoff rather than exit.
  const client = await connectToTemporal(p.connect, p.logger, { signal: p.signal });
  try {
    const added = await ensureSearchAttributes(client, p.connect.namespace);
    if (added.length) p.logger.info({ added }, 'registered search attributes');
  } catch (err) {
    p.logger.warn({ err: (err as Error).message }, 'could not register search attributes (create them in your Temporal namespace)');
  } finally {
    await client.close();
  }
  const connection = await NativeConnection.connect(p.connect.connectionOptions);
  // The workflow thread is created by Worker.create and takes V8's flags as they are then; the SDK has
  // no option for a thread's heap. A process-wide flag, read only by isolates made after this line.
  let threadHeapLimitMb: number | undefined;
  if (p.cache?.workflowHeapMb) {
    setFlagsFromString(`--max-old-space-size=${p.cache.workflowHeapMb}`);
    threadHeapLimitMb = await newThreadHeapLimitMb();
  }
  const workflowBundle = await bundling;
  const create = () =>
    Worker.create({
      connection,
      namespace: p.connect.namespace,
      taskQueue: p.taskQueue,
      activities: p.activities,
      ...(p.cache ? cacheOptions(p.cache) : {}),
      workflowBundle,
    });
  const worker = p.stackTraces ? await create() : await withWorkflowThreadPreload(NO_STACK_TRACES_PRELOAD, create);
  return { worker, connection, threadHeapLimitMb };
}

/**
 * The worker as both entry points make it from the environment (`npm run worker`, and `npm start`'s
 * worker): its activities, cache, sticky queue, workflow heap and stack traces from the same variables.
 */
export function escalationWorkerFromEnv(p: {
  env: Env;
  config: EscalationConfig;
  linkSecret: string;
  connect: ClientConnectConfig & { namespace: string };
  logger: Logger;
  metrics?: Metrics;
  signal?: AbortSignal;
  /** A bundle made already (the bench's idle part); else it is made in a child process. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}) {
  return createEscalationWorker({
    connect: p.connect,
    taskQueue: p.env.TEMPORAL_TASK_QUEUE,
    activities: activitiesFromConfig(p.env, p.config, p.linkSecret, p.logger, p.metrics),
    cache: cacheFromEnv(p.env),
    stackTraces: p.env.WORKER_STACK_TRACES,
    logger: p.logger,
    signal: p.signal,
    workflowBundle: p.workflowBundle,
  });
}

/** What the "worker running" line says, the same from both entry points: the settings the worker got. */
export function workerRunningFields(worker: Worker, threadHeapLimitMb: number | undefined, env: Env, namespace: string) {
  return {
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    namespace,
    maxCachedWorkflows: worker.options.maxCachedWorkflows,
    stickyTimeoutMs: worker.options.stickyQueueScheduleToStartTimeoutMs,
    workflowThreadHeapLimitMb: threadHeapLimitMb,
    workflowStackTraces: env.WORKER_STACK_TRACES,
  };
}

/** The heap limit a thread made now gets (MiB, V8's old and young spaces), read by making one: what the worker logs is what its workflow thread got. */
function newThreadHeapLimitMb(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = new Thread("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)", { eval: true });
    probe.once('message', (limit: number) => {
      resolve(Math.round(limit / 1048576));
      void probe.terminate();
    });
    probe.once('error', reject);
  });
}
