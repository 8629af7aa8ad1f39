/**
 * Teams: each with its roster, Slack channel, policy, calendar and members. A config without `teams`
 * is one team, `default`, made of the top-level settings; cases opened before teams belong to it.
 * Every part of the service reads a team through here (the API to open and authorize, the worker to
 * route a case's messages to its team's people and channel).
 */
import { z } from 'zod';
import { DEFAULT_TEAM, ROLES, TEAM_ID_PATTERN, type Policy, type Role } from '../playbook';
import { policySchema } from '../playbook/policy-schema';

export { DEFAULT_TEAM };
/** The roles a team member may hold (an API key's `inbound` is not a team role). */
export const TEAM_ROLES = ['viewer', 'agent', 'admin'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export const personSchema = z.object({ name: z.string().min(1), email: z.email(), slack: z.string().min(1).optional() }).strict();
export type Person = z.infer<typeof personSchema>;
export type Roster = Partial<Record<Role, Person>>;
export const rosterSchema = z.partialRecord(z.enum(ROLES), personSchema);

/** A team as the config writes it (its id is its key); its policy is merged over the top-level one and checked then. */
export const teamSchema = z
  .object({
    name: z.string().min(1).max(100),
    roster: rosterSchema.default({}),
    slack: z.object({ channel: z.string().min(1).optional() }).strict().default({}),
    policy: z.record(z.string(), z.unknown()).default({}),
    calendar: z.string().min(1).optional(),
    members: z.record(z.email(), z.enum(TEAM_ROLES)).default({}),
  })
  .strict();
export type TeamConfig = z.infer<typeof teamSchema>;

export const teamsSchema = z.record(z.string().regex(TEAM_ID_PATTERN, 'a team id is 1 to 40 of a-z, 0-9 and -'), teamSchema);

export interface Team {
  id: string;
  name: string;
  /** The team's roster, each role it does not name taken from the top-level roster. */
  roster: Roster;
  slackChannel: string | undefined;
  /** The top-level policy with the team's windows over it. */
  policy: Policy;
  /** The calendar the team's new cases use unless the open names one (a name in `calendars`). */
  calendar: string | undefined;
  /** Member emails (lower case) and their role in the team: who may act from Slack, and (with sign-in) from the board. */
  members: Readonly<Record<string, TeamRole>>;
}

/** The top-level settings every team falls back on. */
export interface TeamBase {
  roster: Roster;
  slackChannel: string | undefined;
  policy: Policy;
}

/** The teams of a config, and the one an open that names none goes to. */
export class Teams {
  readonly ids: readonly string[];
  constructor(
    private readonly byId: Readonly<Record<string, Team>>,
    /** Undefined: an open must name its team (more than one configured, no `defaultTeam`). */
    readonly openDefault: string | undefined,
    private readonly base: TeamBase,
  ) {
    this.ids = Object.keys(byId);
  }

  /** One team made of the top-level settings: a config without `teams`. */
  static single(base: TeamBase, members: Record<string, TeamRole> = {}): Teams {
    return new Teams({ [DEFAULT_TEAM]: { id: DEFAULT_TEAM, name: 'Default', ...base, calendar: base.policy.calendar, members } }, DEFAULT_TEAM, base);
  }

  has(id: string): boolean {
    return Object.hasOwn(this.byId, id);
  }

  /**
   * The team a case belongs to. `default` not configured (a config that gained teams while cases of
   * before ran): the top-level settings, no members.
   */
  get(id: string | undefined): Team {
    const key = id ?? DEFAULT_TEAM;
    if (this.has(key)) return this.byId[key];
    return { id: key, name: key, ...this.base, calendar: this.base.policy.calendar, members: {} };
  }

  /** A member's role in each team (email compared without case). */
  rolesOf(email: string): Record<string, TeamRole> {
    const e = email.toLowerCase();
    return Object.fromEntries(this.ids.flatMap((id) => (this.byId[id].members[e] ? [[id, this.byId[id].members[e]]] : [])));
  }
}

/** Deep merge of plain objects: the team's windows over the top-level ones (a severity map merged per severity). */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export interface TeamIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The config's teams resolved over the top-level settings, or the problems found (paths from the
 * config's root): a team's merged policy is checked as a whole, its calendar must exist.
 */
export function resolveTeams(
  raw: Record<string, TeamConfig> | undefined,
  defaultTeam: string | undefined,
  base: TeamBase,
  calendars: readonly string[],
): { teams: Teams; issues: TeamIssue[] } {
  const issues: TeamIssue[] = [];
  if (!raw || Object.keys(raw).length === 0) {
    if (defaultTeam !== undefined && defaultTeam !== DEFAULT_TEAM) issues.push({ path: ['defaultTeam'], message: `no team "${defaultTeam}": there are no teams (known: ${DEFAULT_TEAM})` });
    return { teams: Teams.single(base), issues };
  }
  const byId: Record<string, Team> = {};
  for (const [id, t] of Object.entries(raw)) {
    const policy = policySchema.safeParse(merge(base.policy as unknown as Record<string, unknown>, t.policy));
    if (!policy.success) for (const i of policy.error.issues) issues.push({ path: ['teams', id, 'policy', ...(i.path as (string | number)[])], message: i.message });
    const calendar = t.calendar ?? (policy.success ? policy.data.calendar : undefined);
    if (calendar && !calendars.includes(calendar)) {
      issues.push({ path: ['teams', id, t.calendar ? 'calendar' : 'policy'], message: `no calendar "${calendar}" in calendars (known: ${calendars.join(', ') || 'none'})` });
    }
    byId[id] = {
      id,
      name: t.name,
      roster: { ...base.roster, ...t.roster },
      slackChannel: t.slack.channel ?? base.slackChannel,
      policy: policy.success ? { ...policy.data, ...(calendar ? { calendar } : {}) } : base.policy,
      calendar,
      members: Object.fromEntries(Object.entries(t.members).map(([email, role]) => [email.toLowerCase(), role])),
    };
  }
  const ids = Object.keys(byId);
  if (defaultTeam !== undefined && !byId[defaultTeam]) issues.push({ path: ['defaultTeam'], message: `no team "${defaultTeam}" in teams (known: ${ids.join(', ')})` });
  const openDefault = defaultTeam ?? (ids.length === 1 ? ids[0] : undefined);
  return { teams: new Teams(byId, openDefault, base), issues };
}
