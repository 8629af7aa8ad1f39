import type { TemplateId } from './messages';

/**
 * The playbook's messages as Handlebars templates. One source renders three ways: plain text, HTML
 * (values escaped, `{{link}}` as a button) and, for internal alerts, a Slack line. A templates folder
 * named in the config overrides any of them with files `<id>.subject.hbs`, `<id>.text.hbs`, `<id>.slack.hbs`.
 *
 * Helpers: `{{time iso}}` writes a time in the reader's time zone (the contact's for customer emails),
 * `{{due iso}}` "due <time> (in 2h 5m)" or "was due <time> (overdue by 3h)" as of sending,
 * `{{link url "label"}}`, `{{money n}}`, `{{list items "none yet"}}`.
 */
export interface MessageTemplate {
  subject: string;
  text: string;
  /** One Slack message for the case thread; internal templates only. */
  slack?: string;
}

/** Every customer email ends with the CSM's name and the case's status page (GET /status/{token}). */
const signature = '\n— {{sender.name}}{{#if links.status}}\n\nWhere your case stands, any time: {{links.status}}{{/if}}';

export const DEFAULT_TEMPLATES: Readonly<Record<TemplateId, MessageTemplate>> = {
  acknowledgement: {
    subject: "Re: {{case.title}} — We're on it",
    text: `Hi {{contact.firstName}},

I just saw this and I'm sorry you're dealing with it.

Your report: "{{case.title}}"
The impact you described: {{case.impact}}

I'm escalating this internally right now. You'll hear from me with an update by {{time nextUpdateAt}}.
{{#if workaround}}
In the meantime: {{workaround}}
{{/if}}{{#if note}}
{{note}}
{{/if}}${signature}`,
  },
  progress_update: {
    subject: 'Update on {{case.title}}',
    text: `Hi {{contact.firstName}},

Quick update:

What we know: {{known}}
{{#if unknown}}What we're still investigating: {{unknown}}
{{/if}}{{#if doing}}What we're doing: {{doing}}
{{/if}}{{#if workaround}}To keep moving in the meantime: {{workaround}}
{{/if}}{{#if eta}}ETA: {{eta}}
{{/if}}
I'll update you again by {{time nextUpdateAt}} or sooner if we resolve it.

Let me know if anything changes on your end.${signature}`,
  },
  resolution: {
    subject: 'Resolved: {{case.title}}',
    text: `Hi {{contact.firstName}},

Good news — the issue you reported is resolved:
"{{case.title}}"

Here's what happened and what we did:

Root cause: {{rootCause}}
Fix: {{fix}}
Prevention: {{prevention}}

Can you confirm everything is working on your end?
{{link links.confirm "Yes, it's working"}}
{{link links.notFixed "No, it's still broken"}}

Apologies again for the disruption. I appreciate your patience.${signature}`,
  },
  follow_up: {
    subject: 'Checking in on {{case.title}}',
    text: `Hey {{contact.firstName}},

Wanted to follow up — is everything still working as expected since our fix?

The fix: {{fix}}
What we're doing so this doesn't happen again: {{prevention}}

How did we do? {{link links.csat "Rate how we handled this (0–10)"}}

Let me know if there's anything else you need.${signature}`,
  },
  escalation_support: {
    subject: '[ESCALATION - {{severityLabel}}] {{customer.name}} - {{case.title}}',
    text: `{{reason}}

Customer: {{customer.name}}
Segment: {{segmentLabel}}
ARR: \${{money customer.arr}}
Health Score: {{customer.healthScore}}

Issue: {{case.issue}}
Impact: {{case.impact}}
Timeline: Customer needs resolution by {{#if case.neededBy}}{{time case.neededBy}}{{else}}(not stated){{/if}}
What I've tried: {{list whatTried "nothing yet"}}
{{#if note}}Note: {{note}}
{{/if}}{{#if ask}}Ask: {{ask}}
{{/if}}
Customer contact: {{contact.name}} <{{contact.email}}>
CSM: {{csm.name}} <{{csm.email}}>
Case: {{links.case}}`,
    slack:
      '{{mentions}} *[ESCALATION - {{severityLabel}}] {{customer.name}} - {{case.title}}*\n{{reason}}{{#if note}}: {{note}}{{/if}}{{#if ask}}\n*Ask:* {{ask}}{{/if}}\nSegment: {{segmentLabel}} · ARR: ${{money customer.arr}} · Health: {{customer.healthScore}} · Impact: {{case.impact}}',
  },
  escalation_leadership: {
    subject: '[ESCALATION] {{customer.name}} - {{#if topic}}{{topic}}{{else}}Churn Risk{{/if}}',
    text: `Customer: {{customer.name}} | \${{money customer.arr}} | {{segmentLabel}}

Situation: {{reason}}. {{severityLabel}} escalation "{{case.title}}", stage {{case.stage}}, opened {{time case.openedAt}}.
Impact: {{case.impact}}
Renewal: {{#if customer.renewalDate}}{{customer.renewalDate}}{{else}}(not known){{/if}} · Health score: {{customer.healthScore}}
What we've done: {{list whatTried "acknowledged and investigating"}}
What we need: {{#if ask}}{{ask}}{{else}}Your awareness; the CSM will follow up with a specific ask{{/if}}

Recommendation: {{note}}

CSM: {{csm.name}} <{{csm.email}}>
Case: {{links.case}}`,
    slack:
      '{{mentions}} *[ESCALATION] {{customer.name}} - {{#if topic}}{{topic}}{{else}}Churn Risk{{/if}}* ({{reason}})\n{{case.title}} · ${{money customer.arr}} · {{segmentLabel}}\n*Recommendation:* {{note}}{{#if ask}}\n*What we need:* {{ask}}{{/if}}',
  },
  deadline_warning: {
    subject: '[{{severityLabel}}] {{customer.name}} — {{due dueAt}}: {{what}}',
    text: `Heads up: "{{case.title}}" for {{customer.name}} is due soon.

Due: {{what}}, {{due dueAt}}
Stage: {{case.stage}}

Case: {{links.case}}`,
    slack: '{{mentions}} :hourglass: {{what}}: {{due dueAt}}',
  },
  breach_alert: {
    subject: '[BREACH - {{severityLabel}}] {{customer.name}} — missed: {{what}}',
    text: `The playbook's window was missed on "{{case.title}}" for {{customer.name}}.

Missed: {{what}} (due {{time dueAt}})
Stage: {{case.stage}}
Owner: {{csm.name}} <{{csm.email}}>

Please act now. Case: {{links.case}}`,
    slack: '{{mentions}} :rotating_light: *Breach:* {{what}} was due {{time dueAt}} (owner {{csm.name}})',
  },
  reminder: {
    subject: '[Reminder] {{customer.name}} — {{what}} ({{due dueAt}})',
    text: `Reminder on "{{case.title}}" for {{customer.name}}: not done yet.

Step: {{what}}
When: {{due dueAt}}

Stage: {{case.stage}}
Case: {{links.case}}`,
    slack: '{{mentions}} :bell: Reminder: {{what}} ({{due dueAt}})',
  },
  reopened: {
    subject: '[REOPENED - {{severityLabel}}] {{customer.name}} - {{case.title}}',
    text: `{{contact.name}} says "{{case.title}}" is not fixed.
{{#if comment}}
Their words: {{comment}}
{{/if}}
The case is back in communicate: send the next update.
Case: {{links.case}}`,
    slack: '{{mentions}} :warning: *Reopened:* the customer says it is not fixed{{#if comment}}: {{comment}}{{/if}}',
  },
  delivery_failed: {
    subject: '[Delivery {{#if unconfirmed}}not confirmed{{else}}failed{{/if}}] {{customer.name}} - {{failedKind}} by {{channel}}',
    text: `A {{failedKind}} message for "{{case.title}}" {{#if unconfirmed}}may not have been delivered by {{channel}}{{else}}could not be delivered by {{channel}}{{/if}}.

To: {{list to "(nobody)"}}
Reason: {{reason}}

Please {{#if unconfirmed}}check that they have it, or {{/if}}reach them another way. Case: {{links.case}}`,
    slack: '{{mentions}} {{#if unconfirmed}}:warning: A {{failedKind}} message by {{channel}} may not have arrived{{else}}:x: A {{failedKind}} message by {{channel}} failed{{/if}}: {{reason}}',
  },
  customer_reply: {
    subject: '[Customer reply{{#if awaitingConfirmation}} - awaiting confirmation{{/if}}] {{customer.name}} - {{case.title}}',
    text: `{{from}} replied on "{{case.title}}".
{{#if subject}}Subject: {{subject}}
{{/if}}
{{text}}
{{#if awaitingConfirmation}}
The fix is awaiting their confirmation: if they say it is still broken, record "not fixed" on the case.
{{/if}}
Stage: {{case.stage}}
Case: {{links.case}}`,
    slack:
      '{{mentions}} :incoming_envelope: *Customer reply* from {{from}}{{#if awaitingConfirmation}} (the fix awaits their confirmation: is it still broken?){{/if}}:\n>{{text}}',
  },
  transferred: {
    subject: '[Transferred to {{toTeamName}} - {{severityLabel}}] {{customer.name}} - {{case.title}}',
    text: `"{{case.title}}" ({{customer.name}}) was transferred from {{fromTeamName}} to {{toTeamName}}{{#if by}} by {{by}}{{/if}}.
Reason: {{reason}}

Its deadlines are unchanged: the next one is {{#if case.nextDeadline}}{{case.nextDeadline.kind}}, {{due case.nextDeadline.dueAt}}{{else}}none{{/if}}.
Stage: {{case.stage}}
{{#if links.earlierThread}}Its earlier Slack thread: {{links.earlierThread}}
{{/if}}Case: {{links.case}}`,
    slack:
      '{{mentions}} :arrow_right: *Transferred* from {{fromTeamName}} to {{toTeamName}}: {{reason}}{{#if links.earlierThread}}\n<{{links.earlierThread}}|The earlier thread>{{/if}}',
  },
};
