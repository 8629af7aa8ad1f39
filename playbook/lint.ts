/**
 * The playbook's message lint for customer-facing text a person writes: the "Don't say" list,
 * updates that set no next-update time, and apologizing more than once.
 */
export type LintCode = 'vague_phrase' | 'irrelevant_phrase' | 'no_timeline' | 'no_next_update' | 'repeated_apology';

export interface LintFinding {
  code: LintCode;
  field: string;
  /** The words that tripped the rule, as written. */
  phrase?: string;
  message: string;
  /** The playbook's better phrasing. */
  suggestion: string;
}

export interface LintResult {
  /** Refused (422) unless the caller overrides. */
  errors: LintFinding[];
  /** Accepted, but flagged on the case and in the answer. */
  warnings: LintFinding[];
  /** Apologies found in the text. */
  apologies: number;
}

const SAY_INSTEAD =
  "I just got your message about [issue]. I understand this is blocking [specific impact]. I'm escalating this internally right now and will have an update for you by [time].";

interface Rule {
  code: LintCode;
  pattern: RegExp;
  message: string;
  /** The phrase is fine when the text also commits to a time. */
  unlessTimeGiven?: boolean;
}

const RULES: readonly Rule[] = [
  {
    code: 'vague_phrase',
    pattern: /\bI(?:['’]ll| will) look into (?:it|this|that)\b/i,
    message: '"I\'ll look into it" is too vague: say what you are doing and when the customer hears back',
  },
  {
    code: 'irrelevant_phrase',
    pattern: /\b(?:that|this|it) (?:shouldn['’]t|should not) (?:happen|have happened)\b/i,
    message: '"That shouldn\'t happen" is irrelevant to the customer: acknowledge the impact instead',
  },
  {
    code: 'no_timeline',
    pattern: /\blet me check with (?:the|my|our) team\b/i,
    message: '"Let me check with the team" needs a timeline: say by when you will be back',
    unlessTimeGiven: true,
  },
];

const TIME_GIVEN =
  /\b(?:by|before|until|within|in)\s+(?:\d|an?\s|one\b|two\b|three\b|a few\b|noon\b|midnight\b|tomorrow\b|today\b|tonight\b|end of\b|eod\b|(?:mon|tues|wednes|thurs|fri|satur|sun)day\b)|\b\d{1,2}(?::\d{2})?\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b|\btomorrow\b/i;
const APOLOGY = /\b(?:sorry|apologi[sz]e|apologies)\b/i;
const countApologies = (text: string) => text.match(new RegExp(APOLOGY.source, 'gi'))?.length ?? 0;

export function mentionsTime(text: string): boolean {
  return TIME_GIVEN.test(text);
}

/** Lints the fields of one customer-facing message. */
export function lintCustomerText(
  fields: Record<string, string | undefined>,
  ctx: { apologiesSoFar: number },
): LintResult {
  const errors: LintFinding[] = [];
  let apologies = 0;
  for (const [field, text] of Object.entries(fields)) {
    if (!text) continue;
    for (const rule of RULES) {
      const match = rule.pattern.exec(text);
      if (!match || (rule.unlessTimeGiven && mentionsTime(text))) continue;
      errors.push({ code: rule.code, field, phrase: match[0], message: rule.message, suggestion: SAY_INSTEAD });
    }
    apologies += countApologies(text);
  }
  const warnings: LintFinding[] =
    apologies > 0 && ctx.apologiesSoFar + apologies > 1
      ? [
          {
            code: 'repeated_apology',
            field: Object.keys(fields).find((f) => APOLOGY.test(fields[f] ?? '')) ?? 'text',
            message: 'This case has already apologized: apologize sincerely, once, and focus on the resolution',
            suggestion: "Here's what we're doing to fix it and make sure it doesn't happen again.",
          },
        ]
      : [];
  return { errors, warnings, apologies };
}

/** An update must promise the next one ("Set next update expectation"). */
export function noNextUpdateFinding(field = 'nextUpdateAt'): LintFinding {
  return {
    code: 'no_next_update',
    field,
    message: 'An update must set the next update expectation: give nextUpdateAt',
    suggestion: "I'll update you again by [time] or sooner if we resolve it.",
  };
}
