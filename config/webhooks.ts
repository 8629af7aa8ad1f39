/**
 * The `webhooks` section of the config: endpoints (url, secrets, the events and teams they want), who is
 * told when one is disabled, and whether targets may be private addresses. Checked at start.
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../playbook';
import { ENDPOINT_ID } from '../workflows/webhook-names';

/** An endpoint's id: 1 to 40 of a-z, 0-9 and - (it names the endpoint in ids, the list and metrics). */
export const ENDPOINT_ID_PATTERN = new RegExp(`^${ENDPOINT_ID}$`);

/** `whsec_` and the base64 of 24 to 64 random bytes, as the Standard Webhooks specification writes a secret. */
const secretSchema = z.string().refine((s) => {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(s);
  const bytes = m ? Buffer.from(m[1], 'base64').length : 0;
  return bytes >= 24 && bytes <= 64;
}, 'a secret is whsec_ and the base64 of 24 to 64 random bytes (e.g. `echo whsec_$(openssl rand -base64 32)`)');

const endpointSchema = z
  .object({
    id: z.string().regex(ENDPOINT_ID_PATTERN, 'an endpoint id is 1 to 40 of a-z, 0-9 and -'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http or https URL' }),
    /** One secret, or several while rotating: each delivery is signed with every one. */
    secrets: z.array(secretSchema).min(1).max(5),
    /** The event types it wants; absent or `*`: all. */
    events: z.array(z.enum([...WEBHOOK_EVENT_TYPES, '*'])).min(1).optional(),
    /** The teams whose cases it wants; absent: every team's. */
    teams: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

export const webhooksSchema = z
  .object({
    endpoints: z.array(endpointSchema).max(50).default([]),
    /** Who is told when an endpoint answers 410 and is disabled; absent: each team's support lead. */
    notify: z.array(z.email()).min(1).max(20).optional(),
    /** Lets a target be (or resolve to) a private, loopback or link-local address. */
    allowPrivateTargets: z.boolean().default(false),
  })
  .strict()
  .superRefine((w, ctx) => {
    const seen = new Set<string>();
    w.endpoints.forEach((e, i) => {
      if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'id'], message: `endpoint id "${e.id}" is used twice` });
      seen.add(e.id);
      const problem = w.allowPrivateTargets ? undefined : privateTargetProblem(new URL(e.url).hostname);
      if (problem) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'url'], message: `${problem} (set webhooks.allowPrivateTargets: true to allow it)` });
    });
  });

export type WebhooksConfig = z.infer<typeof webhooksSchema>;
export type WebhookEndpoint = WebhooksConfig['endpoints'][number];

/** Whether an address is private, loopback, link-local or otherwise not on the public internet. */
export function isPrivateAddress(ip: string): boolean {
  let a = ipaddr.parse(ip);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.range() !== 'unicast';
}

/** Why a URL's host can't be a target unless private targets are allowed, or undefined. A name is checked again when it resolves. */
export function privateTargetProblem(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (/^localhost$|\.localhost$/i.test(host)) return `${hostname} is a loopback name`;
  if (ipaddr.isValid(host) && isPrivateAddress(host)) return `${hostname} is a private, loopback or link-local address`;
  return undefined;
}

/** What an endpoint is configured as: a 410 disables it until this changes. */
export function endpointFingerprint(e: WebhookEndpoint): string {
  return createHash('sha256').update(JSON.stringify([e.url, e.secrets, e.events ?? null, e.teams ?? null])).digest('base64url').slice(0, 22);
}
