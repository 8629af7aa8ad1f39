import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_ROSTER, loadEscalationConfig, parseEnv } from '../../config/settings';
import { cacheFromEnv } from '../../worker/worker';
import { parseApiKeys, findKey } from '../../api/auth';
import { redactTokens } from '../../api/app';
import { LinkError, signLink, verifyLink } from '../../config/links';
import { DEFAULT_POLICY } from '../../playbook';
import * as workflows from '../../workflows';
import { ESCALATION_WORKFLOW } from '../../workflows/messages';
import { WEBHOOK_ENDPOINT_WORKFLOW, WEBHOOK_STREAM_WORKFLOW } from '../../workflows/webhook-names';

const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('escalation config', () => {
  test('no file: the playbook policy and a local roster', () => {
    const c = loadEscalationConfig(undefined);
    expect(c.policy).toEqual(DEFAULT_POLICY);
    expect(c.roster).toEqual(DEFAULT_ROSTER);
    expect(c.roster.supportLead?.email).toBe('supportlead@localhost');
  });

  test('a YAML file with roster, channel, partial policy and a templates folder relative to it', () => {
    const c = loadEscalationConfig(
      file('ok.yaml', 'roster:\n  vpCs: { name: Kim, email: kim@x.example, slack: U1 }\nslack: { channel: C1 }\npolicy:\n  acknowledgeWithin: 30m\ntemplates: ./tpl\n'),
    );
    expect(c.roster).toEqual({ vpCs: { name: 'Kim', email: 'kim@x.example', slack: 'U1' } });
    expect(c.slackChannel).toBe('C1');
    expect(c.policy).toEqual({ ...DEFAULT_POLICY, acknowledgeWithin: '30m' });
    expect(c.templatesDir).toBe(join(dir, 'tpl'));
  });

  test('errors name the field and the reason', () => {
    const bad = file('bad.json', JSON.stringify({ roster: { cfo: { name: 'x', email: 'x@y.z' }, vpCs: { name: 'K', email: 'nope' } }, policy: { followUpAfter: 'later' } }));
    expect(() => loadEscalationConfig(bad)).toThrow(ConfigError);
    expect(() => loadEscalationConfig(bad)).toThrow(/roster.vpCs.email[\s\S]*policy.followUpAfter: expected a positive duration/);
    expect(() => loadEscalationConfig(file('broken.yaml', 'roster: [\n'))).toThrow(/not valid YAML/);
    expect(() => loadEscalationConfig(join(dir, 'missing.json'))).toThrow(/cannot be read/);
  });

  test('the environment is checked at start', () => {
    expect(parseEnv({}).PORT).toBe(3000);
    expect(parseEnv({ PORT: '' }).PORT).toBe(3000);
    expect(() => parseEnv({ PORT: 'eighty', SMTP_URL: 'http://mail' })).toThrow(/PORT[\s\S]*SMTP_URL/);
  });

  test('the worker cache is bounded by default and sized from the environment', () => {
    expect(cacheFromEnv(parseEnv({}))).toEqual({ maxCachedWorkflows: 500, stickyTimeoutMs: 10_000, workflowHeapMb: 512 });
    expect(cacheFromEnv(parseEnv({ WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_STICKY_TIMEOUT_MS: '2000' }))).toEqual({ maxCachedWorkflows: 0, stickyTimeoutMs: 2000, workflowHeapMb: 512 });
    expect(cacheFromEnv(parseEnv({ WORKER_WORKFLOW_HEAP_MB: '1024' })).workflowHeapMb).toBe(1024);
    expect(() => parseEnv({ WORKER_WORKFLOW_HEAP_MB: '16' })).toThrow(/WORKER_WORKFLOW_HEAP_MB/);
    expect(() => parseEnv({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => parseEnv({ WORKER_STICKY_TIMEOUT_MS: '5' })).toThrow(/WORKER_STICKY_TIMEOUT_MS/);
  });

  test('workflow stack traces are off unless WORKER_STACK_TRACES says true', () => {
    expect(parseEnv({}).WORKER_STACK_TRACES).toBe(false);
    expect(parseEnv({ WORKER_STACK_TRACES: 'true' }).WORKER_STACK_TRACES).toBe(true);
    expect(parseEnv({ WORKER_STACK_TRACES: 'false' }).WORKER_STACK_TRACES).toBe(false);
    expect(() => parseEnv({ WORKER_STACK_TRACES: 'sometimes' })).toThrow(/WORKER_STACK_TRACES/);
  });
});

describe('API keys and links', () => {
  test('API_KEYS entries are name:role:key; keys are found by value', () => {
    const keys = parseApiKeys('ci:viewer:aaaaaaaaaaaaaaaa, desk:agent:bbbbbbbbbbbbbbbb:with-colon');
    expect(findKey(keys, 'bbbbbbbbbbbbbbbb:with-colon')?.name).toBe('desk');
    expect(findKey(keys, 'nope')).toBeUndefined();
    expect(() => parseApiKeys('x:root:cccccccccccccccc')).toThrow(/role/);
    expect(() => parseApiKeys('x:admin:short')).toThrow(/16 characters/);
  });

  test('a link is bound to its case and action and expires', () => {
    const token = signLink('s'.repeat(20), { caseId: 'c1', action: 'csat' });
    expect(verifyLink('s'.repeat(20), token, { caseId: 'c1', action: 'csat' }).caseId).toBe('c1');
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as LinkError).reason;
      }
    };
    expect(reason(() => verifyLink('s'.repeat(20), token, { caseId: 'c2' }))).toBe('wrong_case');
    expect(reason(() => verifyLink('s'.repeat(20), token, { action: 'confirm' }))).toBe('wrong_action');
    expect(reason(() => verifyLink('t'.repeat(20), token))).toBe('invalid');
    const old = signLink('s'.repeat(20), { caseId: 'c1', action: 'confirm', ttlSeconds: 10, nowSeconds: 1_000 });
    expect(reason(() => verifyLink('s'.repeat(20), old))).toBe('expired');
  });
});

test('link tokens never reach the request logs', () => {
  expect(redactTokens('/links/eyJabc.def.ghi')).toBe('/links/[redacted]');
  expect(redactTokens('/escalations/c1/confirmation?token=eyJ.a.b&x=1')).toBe('/escalations/c1/confirmation?token=[redacted]&x=1');
  // The sign-in callback's code and state.
  expect(redactTokens('/auth/callback?code=abc.def&state=xyz&iss=http%3A%2F%2Fidp')).toBe('/auth/callback?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Fidp');
});

test('the workflow types the API and the activities start are the exported workflows', () => {
  expect(Object.keys(workflows).sort()).toEqual([ESCALATION_WORKFLOW, WEBHOOK_ENDPOINT_WORKFLOW, WEBHOOK_STREAM_WORKFLOW].sort());
});

describe('calendars in the escalation config', () => {
  const write = (o: object) => {
    const file = join(mkdtempSync(join(tmpdir(), 'cal-')), 'c.json');
    writeFileSync(file, JSON.stringify(o));
    return file;
  };
  test('the example config loads with its calendars, each named by its key', () => {
    const c = loadEscalationConfig(join(__dirname, '../../config/examples/escalations.yaml'));
    expect(c.policy.calendar).toBeUndefined(); // commented out: an open names one, or none applies
    expect(c.policy.businessHours).toEqual(['acknowledge', 'respond', 'next_update', 'resolve']);
    expect(c.calendars['us-east']).toMatchObject({ name: 'us-east', timezone: 'America/New_York' });
    expect(c.calendars.emea.hours.mon).toEqual(['09:00-12:30', '13:30-18:00']);
  });
  test('a bad calendar or an unknown policy.calendar is refused at start, naming the field', () => {
    expect(() => loadEscalationConfig(write({ calendars: { x: { timezone: 'Nowhere/Land', hours: { mon: ['09:00-17:00'] } } } }))).toThrow(/calendars\.x: unknown time zone/);
    expect(() => loadEscalationConfig(write({ calendars: { x: { timezone: 'UTC', hours: { mon: ['9-5'] } } } }))).toThrow(/hours\.mon: "9-5"/);
    expect(() => loadEscalationConfig(write({ policy: { calendar: 'x' } }))).toThrow(/policy\.calendar: no calendar "x"/);
    expect(() => loadEscalationConfig(write({ policy: { businessHours: ['lunch'] } }))).toThrow(/policy\.businessHours/);
  });
  test('API_KEYS takes the inbound role', () => {
    expect(parseApiKeys('mail:inbound:inbound-key-0123456789')[0].role).toBe('inbound');
  });
});

describe('readable case ids', () => {
  test('a slug of the customer id and a random part; with an Idempotency-Key, of the key alone', async () => {
    const { caseIdFor, slug } = await import('../../api/service');
    expect(slug('Acme Corp (EU) — Zürich')).toBe('acme-corp-eu-zurich');
    expect(slug('***')).toBe('case');
    expect(slug('x'.repeat(100))).toHaveLength(40);
    expect(caseIdFor('Acme Corp')).toMatch(/^acme-corp-[0-9a-f]{10}$/);
    expect(caseIdFor('Acme Corp')).not.toBe(caseIdFor('Acme Corp'));
    expect(caseIdFor('acme', 'order 42')).toBe(caseIdFor('globex', 'order 42'));
    expect(caseIdFor('acme', 'order 42')).toMatch(/^order-42-[0-9a-f]{10}$/);
  });
});
