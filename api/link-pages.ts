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
<form method="post"><label for="score">0 = not at all, 10 = extremely</label>
<select id="score" name="score" required>{{#each scores}}<option value="{{this}}">{{this}}</option>{{/each}}</select>
<label for="comment">Anything we could do better? (optional)</label><textarea id="comment" name="comment" rows="4" maxlength="4000"></textarea>
<button type="submit">Send</button></form>`,
  },
};
const compiled = Object.fromEntries(Object.entries(forms).map(([k, v]) => [k, Handlebars.compile(v.body)])) as Record<LinkAction, Handlebars.TemplateDelegate>;

/** The page a customer link opens: it shows what the button will do and changes nothing by itself. */
export function linkPage(p: { action: LinkAction; title: string; contactName: string }): string {
  const body = compiled[p.action]({ title: p.title, contactName: p.contactName.split(/\s+/)[0], scores: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0] });
  return layout({ heading: forms[p.action].heading, body });
}

export function linkDonePage(heading: string, message: string): string {
  return layout({ heading, body: `<p>${Handlebars.escapeExpression(message)}</p>` });
}
