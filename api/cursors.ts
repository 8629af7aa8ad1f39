import { HttpError } from './errors';
import { sha256 } from './case-ids';

/**
 * Cursors are Temporal's page token with a checksum of the filters they belong to: anything else is a
 * 400 before Temporal sees it, and a cursor cannot be replayed against other filters.
 */
const checksum = (token: string, query: string) => sha256(`${query}\n${token}`).slice(0, 16);
export function writeCursor(token: Buffer, query: string): string {
  const t = token.toString('base64url');
  return `${t}.${checksum(t, query)}`;
}
export function readCursor(cursor: string, query: string): Buffer {
  const [t, sum] = cursor.split('.');
  if (!t || sum !== checksum(t, query)) throw badCursor('not a cursor from this API for these filters');
  return Buffer.from(t, 'base64url');
}

export const badCursor = (why: string) => new HttpError(400, 'invalid_input', 'The cursor is not valid', [{ field: 'cursor', message: why }]);
