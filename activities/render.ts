import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { DEFAULT_TEMPLATES, TEMPLATE_IDS, duration, localTime, type MessageTemplate, type TemplateId } from '../playbook';

/** The three forms a message takes. */
export type Form = 'text' | 'html' | 'slack';

export interface Rendered {
  subject: string;
  text: string;
  html: string;
  slack: string;
}

const CONTROL = /[\r\n\u2028\u2029\0]+/g;

/** Slack's mrkdwn needs &, < and > escaped in anything a person wrote. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function deepMap<T>(value: T, f: (s: string) => string): T {
  if (typeof value === 'string') return f(value) as T;
  if (Array.isArray(value)) return value.map((v) => deepMap(v, f)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepMap(v, f)])) as T;
  return value;
}

/** A time as the reader reads it (playbook's localTime); what is not a time is written as it came. */
function formatTime(value: unknown, timeZone: string): string {
  const at = Date.parse(String(value));
  return Number.isNaN(at) ? String(value ?? '') : localTime(at, timeZone);
}

function environment(form: Form | 'subject') {
  const hb = Handlebars.create();
  // Slack data arrives escaped already (see render); HTML escapes here; text and subjects stay as written.
  const escape = form === 'html' ? hb.escapeExpression : (s: string) => s;
  hb.registerHelper('time', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
    return formatTime(value, (options.data.root as { timeZone: string }).timeZone);
  });
  // A deadline as of sending: upcoming, or late and by how much (a late reminder never reads as upcoming).
  hb.registerHelper('due', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
    const root = options.data.root as { timeZone: string; now?: number };
    const at = Date.parse(String(value));
    if (Number.isNaN(at)) return String(value ?? '');
    const now = root.now ?? Date.now();
    const when = formatTime(value, root.timeZone);
    return at < now ? `was due ${when} (overdue by ${duration(now - at)})` : `due ${when} (in ${duration(at - now)})`;
  });
  hb.registerHelper('money', (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(n ?? '')));
  hb.registerHelper('list', (items: unknown, none: unknown) => {
    const list = Array.isArray(items) ? items.map(String) : [];
    if (list.length === 0) return escape(String(none ?? ''));
    const out = list.map((x) => `\n- ${escape(x)}`).join('');
    return new hb.SafeString(out);
  });
  hb.registerHelper('link', (url: unknown, label: unknown) => {
    if (!url) return '';
    const u = String(url);
    const l = String(label);
    if (form === 'html') {
      return new hb.SafeString(
        `<a href="${hb.escapeExpression(u)}" style="display:inline-block;margin:4px 0;padding:8px 14px;border-radius:6px;background:#2f54eb;color:#fff;text-decoration:none">${hb.escapeExpression(l)}</a>`,
      );
    }
    if (form === 'slack') return new hb.SafeString(`<${u}|${l}>`);
    return new hb.SafeString(`${l}: ${u}`);
  });
  return hb;
}

/**
 * Renders the playbook's templates, each overridable by files in a templates folder:
 * `<id>.subject.hbs`, `<id>.text.hbs`, `<id>.slack.hbs`. Overrides are read once, at start.
 */
export class Renderer {
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();
  private readonly envs = { subject: environment('subject'), text: environment('text'), html: environment('html'), slack: environment('slack') };
  readonly templates: Record<TemplateId, MessageTemplate>;

  constructor(templatesDir?: string) {
    this.templates = Object.fromEntries(
      TEMPLATE_IDS.map((id) => {
        const base = DEFAULT_TEMPLATES[id];
        const read = (part: keyof MessageTemplate) => {
          const file = templatesDir ? join(templatesDir, `${id}.${part}.hbs`) : undefined;
          return file && existsSync(file) ? readFileSync(file, 'utf8') : base[part];
        };
        return [id, { subject: read('subject')!, text: read('text')!, slack: read('slack') }];
      }),
    ) as Record<TemplateId, MessageTemplate>;
    for (const id of TEMPLATE_IDS) this.render(id, {}, 'UTC'); // fail at start on a broken override
  }

  private template(id: TemplateId, form: Form | 'subject'): Handlebars.TemplateDelegate {
    const key = `${id}:${form}`;
    let t = this.compiled.get(key);
    if (!t) {
      const source = form === 'subject' ? this.templates[id].subject : form === 'slack' ? (this.templates[id].slack ?? this.templates[id].subject) : this.templates[id].text;
      t = this.envs[form].compile(source, { noEscape: form !== 'html', strict: false });
      this.compiled.set(key, t);
    }
    return t;
  }

  /** Renders one message. `timeZone` is the reader's: the contact's for customer emails. */
  render(id: TemplateId, data: Record<string, unknown>, timeZone: string, slackMentions = ''): Rendered {
    const ctx = { ...data, timeZone };
    const body = this.template(id, 'html')(ctx);
    return {
      // A subject is one line: whatever a person typed can never add a header.
      subject: this.template(id, 'subject')(ctx).replace(CONTROL, ' ').trim(),
      text: this.template(id, 'text')(ctx),
      html: `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2328"><div style="white-space:pre-wrap;max-width:640px">${body}</div></body></html>`,
      slack: this.template(id, 'slack')({ ...deepMap(ctx, slackEscape), mentions: slackMentions }).trim(),
    };
  }
}
