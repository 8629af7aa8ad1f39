/**
 * The worker of the fault tests: `npm run worker`'s program against a test's Temporal, mail server and
 * Slack, with a config whose roster reaches local addresses.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnProgram, writeConfig, type Proc } from './processes';

/** The escalation config of the fault tests: the cases' Slack channel and the roster they alert. */
export function faultConfig(): string {
  return writeConfig({
    slack: { channel: 'C0CASES' },
    roster: { supportLead: { name: 'Lee Park', email: 'lee@vendor.example' }, engineering: { name: 'Eng on-call', email: 'oncall@vendor.example' }, csmManager: { name: 'Ana Ruiz', email: 'ana@vendor.example' } },
  });
}

export function spawnFaultWorker(o: { env: TestWorkflowEnvironment; taskQueue: string; smtpUrl: string; slackUrl: string; config: string }): Proc {
  return spawnProgram('worker/main.ts', {
    TEMPORAL_ADDRESS: o.env.address,
    TEMPORAL_NAMESPACE: o.env.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: o.taskQueue,
    SMTP_URL: o.smtpUrl,
    SLACK_BOT_TOKEN: 'xoxb-good',
    SLACK_API_URL: o.slackUrl,
    ESCALATION_CONFIG: o.config,
    EMAIL_FROM: 'escalations@vendor.example',
    LINK_SECRET: 'fault-test-link-secret-0123456789',
    DATA_DIR: '/tmp',
  });
}
