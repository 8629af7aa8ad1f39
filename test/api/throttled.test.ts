import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { apiConnectionOptions } from '../../api/server';
import { devServerEnv } from '../helpers/temporal';
import { openBody, startSystem, type System } from '../helpers/system';

/**
 * Temporal throttling the API: a server allows each namespace a few visibility calls a second
 * (`frontend.namespaceRPS.visibility`, 10 per frontend by default), and the board's list sorted by
 * deadline reads every open case's attributes. The monday bench on the cluster's server had 5 of 259
 * lists answered 500 in the burst. Here the dev server allows one a second, and the API talks to it as
 * `npm run api` does (a few quick gRPC retries, then the error): a throttled list is a 503 with
 * Retry-After, never a 500.
 */
let env: TestWorkflowEnvironment;
let connection: Connection;
let sys: System;
beforeAll(async () => {
  env = await devServerEnv({ dynamicConfig: { 'frontend.namespaceRPS.visibility': 1, 'frontend.namespaceBurstRatio.visibility': 1 } });
  connection = await Connection.connect(apiConnectionOptions({ address: env.address }));
  sys = await startSystem({ env, connection });
}, 120_000);
afterAll(async () => {
  await sys?.stop();
  await connection?.close();
  await env?.teardown();
});

test('a list Temporal throttles is a 503 with Retry-After, never a 500; the lists it lets through answer 200', async () => {
  expect((await sys.call('POST', '/escalations', { body: openBody() })).status).toBe(201);
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => sys.call('GET', i % 2 ? '/escalations?sort=nextDeadline&status=open&limit=25' : '/escalations?status=open', { key: 'viewer' })));
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  // The throttle was met (else this test shows nothing), and each refusal says when to come back.
  const refused = answers.filter((a) => a.status === 503);
  expect(refused.length).toBeGreaterThan(0);
  for (const r of refused) {
    expect([r.body.error.code, r.body.error.message]).toEqual(['temporal_unavailable', expect.stringMatching(/throttling/)]);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  }
  expect(statuses).toContain(200);
}, 120_000);

test('a page asked for with a cursor while Temporal throttles is a 503 too, not a 400 blaming the cursor', async () => {
  expect((await sys.call('POST', '/escalations', { body: openBody() })).status).toBe(201);
  let first = await sys.call('GET', '/escalations?status=open&limit=1', { key: 'viewer' });
  for (let i = 0; first.status === 503 && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    first = await sys.call('GET', '/escalations?status=open&limit=1', { key: 'viewer' });
  }
  expect(first.status).toBe(200);
  const cursor = first.body.nextCursor as string;
  expect(typeof cursor).toBe('string');
  const answers = await Promise.all(Array.from({ length: 12 }, () => sys.call('GET', `/escalations?status=open&limit=1&cursor=${encodeURIComponent(cursor)}`, { key: 'viewer' })));
  const statuses = answers.map((a) => a.status);
  expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
  expect(statuses).toContain(503);
}, 120_000);
