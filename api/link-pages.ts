import Handlebars from 'handlebars';
import type { LinkAction } from '../config/links';

const layout = Handlebars.compile(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{heading}}</title>
<style>body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:560px;margin:48px auto;padding:0 16px;color:#1f2328;line-height:1.5}
button{font-size:16px;padding:10px 18px;border:0;border-radius:6px;background:#2f54eb;color:#fff;cursor:pointer}
textarea,select{width:100%;font-size:15px;margin:8px 0 16px;padding:8px;box-sizing:border-box}</style></head>
<body><h1>{{heading}}</h1>{{{body}}}</body></html>`);

const forms: Record<LinkAction, { heading: string; body: string }> = {
  confirm: {
    heading: 'Is everything working?',
    body: `<p>Hi {{contactName}}, please confirm that <strong>{{title}}</strong> is resolved on your end.</p>
<form method="post"><button type="submit">Yes, it's working</button></form>`,
  },
  not_fixed: {
    heading: 'Still not working?',
    body: `<p>Hi {{contactName}}, sorry that <strong>{{title}}</strong> is not fixed yet. Tell us what you see and we will pick it up right away.</p>
<form method="post"><label for="comment">What is still wrong? (optional)</label><textarea id="comment" name="comment" rows="4" maxlength="4000"></textarea>
<button type="submit">It's still broken</button></form>`,
  },
  csat: {
    heading: 'How did we do?',
    body: `<p>Hi {{contactName}}, how satisfied are you with how we handled <strong>{{title}}</strong>?</p>
<form method="post"><fieldset style="border:0;padding:0;margin:0 0 16px"><legend>0 = not at all, 10 = extremely</legend>
{{#each scores}}<label style="display:inline-block;margin:4px 6px 4px 0"><input type="radio" name="score" value="{{this}}" required> {{this}}</label>{{/each}}</fieldset>
<label for="comment">Anything we could do better? (optional)</label><textarea id="comment" name="comment" rows="4" maxlength="4000"></textarea>
<button type="submit">Send</button></form>`,
  },
};
const compiled = Object.fromEntries(Object.entries(forms).map(([k, v]) => [k, Handlebars.compile(v.body)])) as Record<LinkAction, Handlebars.TemplateDelegate>;

/** The page a customer link opens: it shows what the button will do and changes nothing by itself. */
export function linkPage(p: { action: LinkAction; title: string; contactName: string }): string {
  const body = compiled[p.action]({ title: p.title, contactName: p.contactName.split(/\s+/)[0], scores: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
  return layout({ heading: forms[p.action].heading, body });
}

/** Every way a link can end, in the customer's words: a page each, never raw JSON. */
export type LinkOutcome = 'done' | 'already_recorded' | 'no_longer_possible' | 'earlier_resolution' | 'expired' | 'not_allowed' | 'invalid' | 'rate_limited' | 'invalid_input' | 'unavailable';
const OUTCOMES: Record<Exclude<LinkOutcome, 'done'>, { heading: string; message: string }> = {
  already_recorded: { heading: 'Already recorded', message: 'We already have your answer. Thank you — there is nothing more to do here.' },
  no_longer_possible: { heading: 'Nothing to do here now', message: 'This step no longer applies to your case. If something is still wrong, reply to our last email and we will pick it up.' },
  earlier_resolution: { heading: 'This link is from an earlier email', message: 'We have sent a newer resolution since. Please use the links in our latest email.' },
  expired: { heading: 'This link has expired', message: 'Reply to our last email and we will help you from there.' },
  not_allowed: { heading: 'This link cannot do that', message: 'This link is for another step. Please use the button on the page the link opens.' },
  invalid: { heading: 'This link is not valid', message: 'It may have been cut off in your email program. Please open it again from the email.' },
  rate_limited: { heading: 'Too many tries', message: 'Please wait a minute and try again.' },
  invalid_input: { heading: 'Please check your answer', message: 'Choose a score from 0 to 10 and send it again.' },
  unavailable: { heading: 'Please try again shortly', message: 'We could not record your answer just now. Nothing was lost; please try again in a minute.' },
};
export function linkOutcomeMessage(outcome: Exclude<LinkOutcome, 'done'>): string {
  return `${OUTCOMES[outcome].heading}. ${OUTCOMES[outcome].message}`;
}
export function linkOutcomePage(outcome: Exclude<LinkOutcome, 'done'>): string {
  return linkDonePage(OUTCOMES[outcome].heading, OUTCOMES[outcome].message);
}

export function linkDonePage(heading: string, message: string): string {
  return layout({ heading, body: `<p>${Handlebars.escapeExpression(message)}</p>` });
}
