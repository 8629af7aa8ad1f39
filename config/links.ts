import jwt from 'jsonwebtoken';

/**
 * The links in customer emails: signed (HS256), bound to one case and one action, expiring.
 * Activities sign them at send time; the API verifies them. Both read the same LINK_SECRET.
 */
import { LINK_ACTIONS, type LinkAction } from '../playbook';

export { LINK_ACTIONS, type LinkAction };

/** How long each link stays usable. */
export const LINK_TTL_SECONDS: Record<LinkAction, number> = {
  confirm: 14 * 86_400,
  not_fixed: 14 * 86_400,
  csat: 30 * 86_400,
};

const AUDIENCE = 'escalation-link';

export class LinkError extends Error {
  constructor(
    readonly reason: 'invalid' | 'expired' | 'wrong_case' | 'wrong_action',
    message: string,
  ) {
    super(message);
    this.name = 'LinkError';
  }
}

/**
 * `resolution` (the resolution's time) binds a confirm or not-fixed link to the resolution it was sent
 * with: after a reopening and a new resolution, the old email's links no longer answer for the new one.
 */
export function signLink(secret: string, p: { caseId: string; action: LinkAction; resolution?: string; ttlSeconds?: number; nowSeconds?: number }): string {
  const now = p.nowSeconds ?? Math.floor(Date.now() / 1000);
  return jwt.sign({ act: p.action, iat: now, exp: now + (p.ttlSeconds ?? LINK_TTL_SECONDS[p.action]), ...(p.resolution ? { res: p.resolution } : {}) }, secret, {
    algorithm: 'HS256',
    subject: p.caseId,
    audience: AUDIENCE,
    noTimestamp: true,
  });
}

/** The case and action a token grants, or a LinkError saying why it does not. */
export function verifyLink(
  secret: string,
  token: string,
  expect?: { caseId?: string; action?: LinkAction },
): { caseId: string; action: LinkAction; expiresAt: Date; resolution?: string } {
  let payload: jwt.JwtPayload;
  try {
    payload = jwt.verify(token, secret, { algorithms: ['HS256'], audience: AUDIENCE }) as jwt.JwtPayload;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw new LinkError('expired', 'This link has expired');
    throw new LinkError('invalid', 'This link is not valid');
  }
  const action = payload.act as LinkAction;
  if (typeof payload.sub !== 'string' || !LINK_ACTIONS.includes(action)) throw new LinkError('invalid', 'This link is not valid');
  if (expect?.caseId && payload.sub !== expect.caseId) throw new LinkError('wrong_case', 'This link belongs to another case');
  if (expect?.action && action !== expect.action) throw new LinkError('wrong_action', `This link is for "${action}", not "${expect.action}"`);
  return { caseId: payload.sub, action, expiresAt: new Date((payload.exp ?? 0) * 1000), ...(typeof payload.res === 'string' ? { resolution: payload.res } : {}) };
}

export function linkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/$/, '')}/links/${token}`;
}

/**
 * The status page link of a case (GET /status/{token}): a capability, signed (HS256, 256 bits), bound to
 * the case and to the link's generation — rotating the link makes the earlier ones answer 410. It has no
 * expiry of its own: the page answers 410 thirty days after the case closes.
 */
const STATUS_AUDIENCE = 'escalation-status';

export function signStatusLink(secret: string, caseId: string, gen: number): string {
  return jwt.sign({ gen }, secret, { algorithm: 'HS256', subject: caseId, audience: STATUS_AUDIENCE, noTimestamp: true });
}

/** The case and generation a status token names, or undefined when it is not one of ours. */
export function verifyStatusLink(secret: string, token: string): { caseId: string; gen: number } | undefined {
  try {
    const p = jwt.verify(token, secret, { algorithms: ['HS256'], audience: STATUS_AUDIENCE }) as jwt.JwtPayload;
    return typeof p.sub === 'string' && Number.isInteger(p.gen) ? { caseId: p.sub, gen: p.gen as number } : undefined;
  } catch {
    return undefined;
  }
}

export function statusUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/$/, '')}/status/${token}`;
}
