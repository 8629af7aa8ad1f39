/** Times and spans as people read them: one place for the Temporal UI's details, the timeline and the templates. */

/**
 * One formatter per zone: building an Intl.DateTimeFormat costs far more than using one (it was a
 * tenth of a worker's CPU when it replays a case). Zones are few; the cache is bounded all the same.
 */
const formatters = new Map<string, Intl.DateTimeFormat | null>();
function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
  } catch {
    f = null; // not a zone Intl knows
  }
  if (formatters.size >= 200) formatters.clear();
  formatters.set(timeZone, f);
  return f;
}

/** A time as people read it in a zone ("Mon, Jan 5, 10:00 AM EST"); UTC when the zone is unknown. */
export function localTime(ms: number, timeZone = 'UTC'): string {
  const f = formatterFor(timeZone);
  return f ? f.format(ms) : new Date(ms).toISOString();
}

/** "2h 5m", "3d 4h": how long, for people. */
/** A text cut to `max` characters, the last one an ellipsis when it was longer. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function duration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  const [d, h, min] = [Math.floor(m / 1440), Math.floor((m % 1440) / 60), m % 60];
  if (d > 0) return `${d}d${h ? ` ${h}h` : ''}`;
  if (h > 0) return `${h}h${min ? ` ${min}m` : ''}`;
  return `${min}m`;
}
