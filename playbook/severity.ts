/** The playbook's severity table: what each level means, how fast we answer, who is involved. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Roles the roster names. The CSM and the customer contact come with each case. */
export const ROLES = [
  'support',
  'supportLead',
  'engineering',
  'csmManager',
  'vpCs',
  'execSponsor',
  'finance',
  'legal',
  'product',
] as const;
export type Role = (typeof ROLES)[number];
export type Party = Role | 'csm' | 'contact';

export interface SeverityLevel {
  label: string;
  definition: string;
  /** The playbook's response time; the default of `policy.respondWithin` and `policy.updateEvery`. */
  responseTime: string;
  /** Who is involved from the start (and pulled in when a case is raised to this level). */
  involved: readonly Party[];
}

export const SEVERITY_TABLE: Readonly<Record<Severity, SeverityLevel>> = {
  critical: {
    label: 'Critical',
    definition: 'System down, major data loss, blocking operations',
    responseTime: '1h',
    involved: ['csm', 'supportLead', 'engineering'],
  },
  high: {
    label: 'High',
    definition: 'Significant feature broken, workaround difficult',
    responseTime: '4h',
    involved: ['csm', 'support'],
  },
  medium: {
    // "CSM or Support": the case's CSM owns it and may hand it to support; nobody else is paged.
    label: 'Medium',
    definition: 'Feature issue with workaround',
    responseTime: '24h',
    involved: ['csm'],
  },
  low: {
    label: 'Low',
    definition: 'Minor inconvenience',
    responseTime: '48h',
    involved: ['support'],
  },
};

/** Roles involved at `to` that were not involved at `from`: they are told when a case is raised. */
export function newlyInvolved(from: Severity, to: Severity): Party[] {
  const before = new Set(SEVERITY_TABLE[from].involved);
  return SEVERITY_TABLE[to].involved.filter((p) => !before.has(p));
}

/** Who hears of a breach besides the owner: the CSM manager, and for critical cases the support lead. */
export function nextLevel(severity: Severity): Role[] {
  return severity === 'critical' ? ['csmManager', 'supportLead'] : ['csmManager'];
}
