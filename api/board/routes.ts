/** The team's board: its page, its script and style, and its forms (from the action registry). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type express from 'express';
import type { RequestHandler } from 'express';
import { boardForms } from './forms';

/**
 * The team's board (GET /board): a page and a small script over this JSON API, read once at start.
 * Loading it needs no key; everything it shows or does is an API call with the key the person signs in with.
 */
export function mountBoard(app: express.Express, teams: readonly string[] = [], signIn: 'key' | 'oidc' = 'key'): void {
  const file = (name: string) => readFileSync(join(__dirname, name), 'utf8');
  const page = file('index.html');
  const assets: Record<string, [string, string]> = { 'board.js': ['text/javascript', file('board.js')], 'board.css': ['text/css', file('board.css')] };
  const html: RequestHandler = (_req, res) => void res.type('html').set('cache-control', 'no-cache').send(page);
  const forms = { ...boardForms(teams), signIn };
  app.get('/board', html);
  app.get('/board/forms.json', (_req, res) => void res.set('cache-control', 'no-cache').json(forms));
  app.get('/board/cases/:id', html);
  app.get('/board/:asset', (req, res, next) => {
    const asset = assets[String(req.params.asset)];
    if (!asset) return next();
    res.type(asset[0]).set('cache-control', 'no-cache').send(asset[1]);
  });
}
