/**
 * Object-level authorization, deny by default, in one place: which teams' cases a principal may read
 * and act on. A case of a team the principal holds no role in does not exist for it: the API answers
 * the same 404 as for an unknown id, and lists, reports and the board leave it out.
 */
import { RANK, type ApiRole, type Principal } from './auth';
import { HttpError, notFound } from './errors';

/** The principal's role in a team, if any (an unscoped key: its role in every team). */
export function roleIn(p: Principal, team: string): ApiRole | undefined {
  if (p.role === 'customer') return undefined;
  if (!p.teams) return p.role;
  return Object.hasOwn(p.teams, team) ? p.teams[team] : undefined;
}

/** Whether the principal holds `need` or above in the team. */
export function holds(p: Principal, team: string, need: ApiRole): boolean {
  const role = roleIn(p, team);
  return role !== undefined && role !== 'inbound' && RANK[role] >= RANK[need];
}

/** A case as access sees it: its team, and the teams it was transferred away from (they keep `viewer`). */
export interface CaseTeams {
  team: string;
  formerTeams: readonly string[];
}

export function canRead(p: Principal, c: CaseTeams): boolean {
  return holds(p, c.team, 'viewer') || c.formerTeams.some((t) => holds(p, t, 'viewer'));
}

/** Reading a case: the same 404 as an unknown id when the principal may not. */
export function requireRead(p: Principal, caseId: string, c: CaseTeams | undefined): CaseTeams {
  if (!c || !canRead(p, c)) throw notFound(caseId);
  return c;
}

/** Acting on a case: 404 when it may not even read it; 403 when it reads it without the action's role in its team. */
export function requireAct(p: Principal, caseId: string, c: CaseTeams | undefined, need: ApiRole): void {
  requireRead(p, caseId, c);
  if (!holds(p, c!.team, need)) {
    throw new HttpError(403, 'forbidden', `This needs the ${need} role in team ${c!.team}, the case's team; ${roleIn(p, c!.team) ? `you have ${roleIn(p, c!.team)} there` : 'you read it as a team it was transferred from'}`);
  }
}

/** The teams whose cases the principal may list: every team (`*`), or these. */
export function readableTeams(p: Principal): '*' | string[] {
  if (p.role === 'customer' || p.role === 'inbound') return [];
  if (!p.teams) return '*';
  return Object.keys(p.teams).filter((t) => holds(p, t, 'viewer'));
}

/**
 * What a list or a report may cover: every team the principal reads (`*` for all). A `team=` filter
 * outside them is 403.
 */
export function teamScope(p: Principal, asked: string | undefined): '*' | string[] {
  const readable = readableTeams(p);
  if (asked !== undefined && readable !== '*' && !readable.includes(asked)) {
    throw new HttpError(403, 'forbidden', `You hold no role in team ${asked}`, [{ field: 'team', message: 'not one of your teams' }]);
  }
  return readable;
}
