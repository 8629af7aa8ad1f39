/** Case ids: readable slugs, and the id an Idempotency-Key always names. */
import { createHash, randomBytes } from 'node:crypto';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Lower-case words of a text joined by '-', at most 40 characters ("Acme Corp (EU)" → "acme-corp-eu"). */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'case';
}

/**
 * A new case's id, readable in the Temporal UI (`escalation-<id>`): the customer's slug and a random
 * part; with an Idempotency-Key, the key's slug and a part derived from the key alone, so the same key
 * always names the same case.
 */
export function caseIdFor(customerId: string, idempotencyKey?: string): string {
  return idempotencyKey ? `${slug(idempotencyKey)}-${sha256(idempotencyKey).slice(0, 10)}` : `${slug(customerId)}-${randomBytes(5).toString('hex')}`;
}
