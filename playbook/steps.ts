import type { Stage } from './state';

/** The playbook's response framework, step by step: what each stage is for and what to do in it. */
export interface Step {
  step: string;
  goal: string;
  actions: readonly string[];
  /** Questions for the customer (investigate) or phrasing the playbook gives. */
  ask?: readonly string[];
  say?: string;
  dontSay?: readonly string[];
}

export const STEPS: Readonly<Record<Exclude<Stage, 'closed'>, Step>> = {
  acknowledge: {
    step: 'Step 1: Acknowledge (within 1 hour)',
    goal: "Customer knows you're on it",
    actions: ['Acknowledge the issue', 'Show understanding of impact', 'Commit to next steps', 'Set expectation for follow-up'],
    say: "I just got your message about [issue]. I understand this is blocking [specific impact]. I'm escalating this internally right now and will have an update for you by [time].",
    dontSay: ['"I\'ll look into it" (too vague)', '"That shouldn\'t happen" (irrelevant)', '"Let me check with the team" (without timeline)'],
  },
  investigate: {
    step: 'Step 2: Investigate (time based on severity)',
    goal: 'Find the root cause or the path to it',
    actions: ['Gather full context from customer', 'Pull internal data/logs', 'Identify root cause or path to root cause', 'Determine if workaround exists', 'Estimate resolution timeline'],
    ask: ['When did this start?', 'What were you doing when it happened?', 'Is there a workaround you\'re using?', "What's the business impact?"],
  },
  communicate: {
    step: 'Step 3: Communicate (based on severity timeline)',
    goal: 'Keep the customer informed on the promised cadence',
    actions: ['Share what you know', 'Be honest about unknowns', 'Provide workaround if available', 'Set next update expectation'],
    say: "Here's what we know: [explanation]. We're still investigating [unknown]. In the meantime, you can [workaround] to keep moving. I'll update you again by [time].",
  },
  resolve: {
    step: 'Step 4: Resolve',
    goal: 'The customer confirms it is fixed',
    actions: ['Implement fix or permanent workaround', 'Confirm with customer it\'s resolved', 'Document what happened', 'Identify prevention steps'],
  },
  follow_up: {
    step: 'Step 5: Follow up (24–48 hours after resolution)',
    goal: 'Rebuild confidence',
    actions: ['Check that everything is stable', 'Apologize sincerely (once)', 'Share prevention measures', 'Rebuild confidence'],
    say: "Wanted to check in — is everything working as expected since [fix]? I also wanted to share what we're doing to prevent this: [prevention]. I'm sorry this happened. Let me know if there's anything else.",
  },
  recovery: {
    step: 'Escalation recovery',
    goal: 'Rebuild the relationship',
    actions: [
      'Within 1 week: personal call (not email), check stability, ask what we could do better, reinforce commitment',
      'Within 1 month: health check call, ensure no lingering issues, look for quick wins to deliver',
      'At next QBR: reference the incident, show prevention measures taken, celebrate recovery',
    ],
  },
};
