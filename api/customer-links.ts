/**
 * What a customer reaches from an email: the link pages (GET shows, POST acts) and the actions a link
 * may take through the API (confirmation, CSAT), each bound to one case and one action.
 */
import type express from 'express';
import type { RequestHandler, Router } from 'express';
import { allowedIn, type ActionType, type CaseView } from '../playbook';
import { LinkError, verifyLink, type LinkAction } from '../config/links';
import { requireRole, type ApiRole } from './auth';
import { HttpError, toHttpError, wrap } from './errors';
import { linkDonePage, linkOutcomeMessage, linkOutcomePage, linkPage, type LinkOutcome } from './link-pages';
import { actionSchemas } from './schemas';
import type { EscalationService } from './service';

/** An agent key, or a customer link token (`?token=`) for this case and one of these actions. */
export function linkOrRole(role: ApiRole, actions: readonly LinkAction[], secret: string, limiter: RequestHandler): RequestHandler {
  const byRole = requireRole(role);
  return (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (!token) return byRole(req, res, next);
    limiter(req, res, () => {
      try {
        const link = verifyLink(secret, token, { caseId: String(req.params.id) });
        if (!actions.includes(link.action)) throw new LinkError('wrong_action', `This link is for "${link.action}"`);
        req.principal = { name: 'customer', role: 'customer' };
        res.locals.linkAction = link.action;
        res.locals.link = link;
        next();
      } catch (err) {
        next(linkHttpError(err));
      }
    });
  };
}

/** A confirm link can only say "resolved", a not-fixed link only "not resolved". */
function checkLinkMatches(link: LinkAction, action: ActionType, args: Record<string, unknown>): void {
  if (action === 'confirmation' && (link === 'confirm') !== (args.resolved === true)) {
    throw new HttpError(403, 'link_wrong_action', `This link cannot record resolved=${String(args.resolved)}`);
  }
}

export function linkHttpError(err: unknown): HttpError {
  if (err instanceof LinkError) {
    return new HttpError(403, err.reason === 'expired' ? 'link_expired' : err.reason === 'invalid' ? 'link_invalid' : `link_${err.reason}`, err.message);
  }
  return err instanceof HttpError ? err : new HttpError(403, 'link_invalid', 'This link is not valid');
}

/** A customer's action through the API: what its link allows, while the step it answers still applies. */
export async function checkCustomerLink(res: express.Response, service: EscalationService, caseId: string, action: ActionType, args: Record<string, unknown>): Promise<void> {
  checkLinkMatches(res.locals.linkAction as LinkAction, action, args);
  const blocked = whyNot(res.locals.link as ReturnType<typeof verifyLink>, await service.get(caseId));
  if (blocked) throw new HttpError(OUTCOME_STATUS[blocked], `link_${blocked}`, linkOutcomeMessage(blocked));
}

/**
 * The pages behind the links in customer emails. GET only shows, and offers a button only when the
 * step still applies; the button POSTs. Single use: a confirm or not-fixed link answers for the
 * resolution it was sent with, once (the case moves on); a CSAT link records one score (an agent may
 * still change it through the API). Every outcome is a page for a person, or JSON for a JSON client.
 */
export function mountLinks(app: Router, deps: { service: EscalationService; linkSecret: string }, limiter: RequestHandler): void {
  app.get('/links/:token', limiter, wrap(async (req, res) => {
    const link = readLink(deps.linkSecret, String(req.params.token));
    if (typeof link === 'string') return void res.status(OUTCOME_STATUS[link]).type('html').send(linkOutcomePage(link));
    const view = await deps.service.get(link.caseId);
    const blocked = whyNot(link, view);
    if (blocked) return void res.status(OUTCOME_STATUS[blocked]).type('html').send(linkOutcomePage(blocked));
    res.type('html').send(linkPage({ action: link.action, title: view.title, contactName: view.contact.name }));
  }));
  app.post('/links/:token', limiter, wrap(async (req, res) => {
    const json = req.is('application/json') === 'application/json';
    const answer = (outcome: Exclude<LinkOutcome, 'done'>) => {
      if (json) throw new HttpError(OUTCOME_STATUS[outcome], `link_${outcome}`, linkOutcomeMessage(outcome));
      res.status(OUTCOME_STATUS[outcome]).type('html').send(linkOutcomePage(outcome));
    };
    const link = readLink(deps.linkSecret, String(req.params.token));
    if (typeof link === 'string') return answer(link);
    const body = (req.body ?? {}) as Record<string, unknown>; // no body, or a type no parser took
    const comment = typeof body.comment === 'string' && body.comment.trim() ? body.comment.trim().slice(0, 4000) : undefined;
    let message: string;
    try {
      const blocked = whyNot(link, await deps.service.get(link.caseId));
      if (blocked) return answer(blocked);
      if (link.action === 'csat') {
        const score = actionSchemas.csat.safeParse({ score: typeof body.score === 'string' && body.score.trim() ? Number(body.score) : body.score, comment });
        if (!score.success) {
          if (json) throw score.error;
          return answer('invalid_input');
        }
        await deps.service.act(link.caseId, 'csat', { ...score.data, by: 'customer' });
        message = 'Thank you for your rating.';
      } else {
        const resolved = link.action === 'confirm';
        await deps.service.act(link.caseId, 'confirmation', { resolved, ...(comment ? { comment } : {}), by: 'customer' });
        message = resolved ? 'Thank you for confirming. We will check in again soon.' : 'Thank you for telling us. We are on it and will update you shortly.';
      }
    } catch (err) {
      const e = toHttpError(err);
      if (json || e.status < 400) throw err;
      return answer(e.status === 409 ? 'no_longer_possible' : e.status === 400 ? 'invalid_input' : e.status === 404 ? 'invalid' : 'unavailable');
    }
    if (json) res.json({ ok: true, message });
    else res.type('html').send(linkDonePage('Thank you', message));
  }));
}

const OUTCOME_STATUS: Record<Exclude<LinkOutcome, 'done'>, number> = {
  already_recorded: 409,
  no_longer_possible: 409,
  earlier_resolution: 409,
  expired: 403,
  not_allowed: 403,
  invalid: 403,
  rate_limited: 429,
  invalid_input: 400,
  unavailable: 503,
};

function readLink(secret: string, token: string): ReturnType<typeof verifyLink> | Exclude<LinkOutcome, 'done'> {
  try {
    return verifyLink(secret, token);
  } catch (err) {
    return err instanceof LinkError && err.reason === 'expired' ? 'expired' : 'invalid';
  }
}

/** Why the link's step does not apply to the case now, or undefined when it does. */
function whyNot(link: ReturnType<typeof verifyLink>, view: CaseView): Exclude<LinkOutcome, 'done'> | undefined {
  if (link.action === 'csat') {
    if (view.csat) return 'already_recorded';
    return allowedIn('csat', view.stage) ? undefined : 'no_longer_possible';
  }
  if (link.resolution && view.resolvedAt && link.resolution !== view.resolvedAt) return 'earlier_resolution';
  if (allowedIn('confirmation', view.stage)) return link.resolution && !view.resolvedAt ? 'earlier_resolution' : undefined;
  return view.confirmedAt || view.stage === 'communicate' ? 'already_recorded' : 'no_longer_possible';
}
