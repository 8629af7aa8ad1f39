/**
 * The customer's status page (GET /status/{token}, no credentials): where their case stands in their
 * words, what they were last told, when the next update is due, whether we wait on them. Nothing
 * internal: no notes, breaches, internal escalations, or people other than the CSM's name. The token
 * is a capability (config/links.ts): rotated by an agent, dead thirty days after the case closes.
 */
import Handlebars from 'handlebars';
import { rateLimit } from 'express-rate-limit';
import type { Router } from 'express';
import { verifyStatusLink } from '../config/links';
import type { Stage } from '../playbook';
import { wrap } from './errors';
import type { EscalationService, LinkedView } from './service';

export const STATUS_STAGES = ['investigating', 'updating', 'awaiting_confirmation', 'resolved', 'closed'] as const;
export type StatusStage = (typeof STATUS_STAGES)[number];

/** Each stage of the playbook in the customer's words. */
const STAGE_FOR: Record<Stage, StatusStage> = {
  acknowledge: 'investigating',
  investigate: 'investigating',
  communicate: 'updating',
  resolve: 'awaiting_confirmation',
  follow_up: 'resolved',
  recovery: 'resolved',
  closed: 'closed',
};
export const STAGE_SENTENCE: Record<StatusStage, string> = {
  investigating: "We're investigating what you reported.",
  updating: "We're working on it and will keep you updated.",
  awaiting_confirmation: 'We sent a fix — please confirm it works for you.',
  resolved: 'Resolved. Thank you for confirming.',
  closed: 'This case is closed.',
};

/** A link answers 410 this long after its case closed. */
export const STATUS_AFTER_CLOSE_MS = 30 * 86_400_000;

export interface StatusFacts {
  reference: string;
  title: string;
  stage: StatusStage;
  stageText: string;
  latestUpdate: { at: string; text: string } | null;
  nextUpdateBy: string | null;
  waitingOnYouSince: string | null;
  resolvedAt: string | null;
  csm: { name: string };
  timezone: string;
}

/** What the page may say about a case, or why the link no longer opens it. */
export function statusOf(view: LinkedView, gen: number, now: number): StatusFacts | 'rotated' | 'expired' {
  if (gen !== view.statusLinkGen) return 'rotated';
  if (view.closedAt && now - Date.parse(view.closedAt) > STATUS_AFTER_CLOSE_MS) return 'expired';
  const stage = STAGE_FOR[view.stage];
  const waiting = view.paused && view.paused.reason === 'waiting_on_customer' ? view.paused.since : null;
  return {
    reference: view.id,
    title: view.title,
    stage,
    stageText: STAGE_SENTENCE[stage],
    latestUpdate: view.lastToCustomer,
    nextUpdateBy: stage === 'investigating' || stage === 'updating' ? (view.promisedUpdateAt ?? null) : null,
    waitingOnYouSince: waiting,
    resolvedAt: view.resolvedAt,
    csm: { name: view.csm.name },
    timezone: view.contact.timezone ?? 'UTC',
  };
}

const HEADERS = { 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex', 'Cache-Control': 'no-store' };

const page = Handlebars.compile(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{heading}}</title>
<style>body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:560px;margin:32px auto;padding:0 16px;color:#1f2328;line-height:1.5;font-size:17px}
h1{font-size:1.4em;margin:0 0 4px}.ref{color:#57606a;margin:0 0 20px}.stage{font-size:1.15em;font-weight:600;padding:12px 14px;border-radius:8px;background:#eef2ff}
dl{margin:20px 0}dt{font-weight:600;margin-top:14px}dd{margin:2px 0 0;white-space:pre-wrap;overflow-wrap:anywhere}</style></head>
<body><main>{{{body}}}</main></body></html>`);

const statusBody = Handlebars.compile(`<h1>{{f.title}}</h1>
<p class="ref">Reference <strong>{{f.reference}}</strong></p>
<p class="stage" role="status">{{f.stageText}}</p>
<dl>
{{#if f.waitingOnYouSince}}<dt>Waiting on your reply since</dt><dd>{{time f.waitingOnYouSince}}</dd>{{/if}}
{{#if f.latestUpdate}}<dt>Latest update, {{time f.latestUpdate.at}}</dt><dd>{{f.latestUpdate.text}}</dd>{{/if}}
{{#if f.nextUpdateBy}}<dt>Next update by</dt><dd>{{time f.nextUpdateBy}}</dd>{{/if}}
{{#if f.resolvedAt}}<dt>Resolved</dt><dd>{{time f.resolvedAt}}</dd>{{/if}}
<dt>Your contact</dt><dd>{{f.csm.name}}</dd>
</dl>
<p>Times are in {{f.timezone}}. Reply to any of our emails to reach {{f.csm.name}}.</p>`);

function render(f: StatusFacts): string {
  const time = (iso: string) => new Date(iso).toLocaleString('en-US', { timeZone: f.timezone, weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
  return page({ heading: `${f.title} — status`, body: statusBody({ f }, { helpers: { time } }) });
}

const message = (heading: string, text: string) => page({ heading, body: `<h1>${Handlebars.escapeExpression(heading)}</h1><p>${Handlebars.escapeExpression(text)}</p>` });
const GONE = {
  rotated: ['This link has been replaced', 'We sent you a newer link to this page: use the one in the latest email from us.'],
  expired: ['This status page has expired', 'The case closed more than 30 days ago. Reply to any of our emails if you need us.'],
  invalid: ['This link is not valid', 'Use the link in the latest email from us.'],
} as const;

export function mountStatusPage(app: Router, deps: { service: EscalationService; linkSecret: string; requestsPerMinute?: number }): void {
  // Per link: one customer's page cannot be hammered, and one link cannot take another's budget.
  const perLink = rateLimit({
    windowMs: 60_000,
    limit: deps.requestsPerMinute ?? 60,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => String(req.params.token).slice(0, 2000),
    handler: (_req, res) => void res.status(429).set({ ...HEADERS, 'Retry-After': '60' }).type('html').send(message('Too many requests', 'Please try again in a minute.')),
  });
  app.get('/status/:token', perLink, wrap(async (req, res) => {
    res.set(HEADERS);
    const json = req.accepts(['html', 'json']) === 'json';
    const gone = (why: keyof typeof GONE, status: number) => {
      const [heading, text] = GONE[why];
      if (json) return void res.status(status).json({ error: { code: `status_link_${why}`, message: `${heading}. ${text}` } });
      res.status(status).type('html').send(message(heading, text));
    };
    const link = verifyStatusLink(deps.linkSecret, String(req.params.token));
    if (!link) return gone('invalid', 404);
    const view = await deps.service.get(link.caseId).catch(() => undefined);
    if (!view) return gone('invalid', 404);
    const facts = statusOf(view, link.gen, Date.now());
    if (facts === 'rotated' || facts === 'expired') return gone(facts, 410);
    if (json) {
      const { timezone: _tz, ...out } = facts;
      return void res.json(out);
    }
    res.type('html').send(render(facts));
  }));
}
