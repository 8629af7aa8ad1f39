/**
 * The service's own Prometheus metrics (prom-client), one registry per process. The API counts requests
 * and opens and reads open and breached cases from Temporal visibility at each scrape; the worker counts
 * messages. The worker's SDK metrics (Temporal's own: task latencies, slots, polls) are served by the
 * SDK on loopback and merged into the same `/metrics` answer.
 */
import { createServer, type Server } from 'node:http';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  requestSeconds: Histogram<'method' | 'route'>;
  casesOpened: Counter<'severity' | 'segment' | 'team'>;
  messages: Counter<'channel' | 'kind' | 'status' | 'team'>;
  webhookAttempts: Counter<'endpoint' | 'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'escalation_' });
  return {
    registry,
    requests: new Counter({ name: 'escalation_http_requests_total', help: 'API requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    requestSeconds: new Histogram({
      name: 'escalation_http_request_duration_seconds',
      help: 'API request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
      registers: [registry],
    }),
    casesOpened: new Counter({ name: 'escalation_cases_opened_total', help: 'Cases opened through the API', labelNames: ['severity', 'segment', 'team'], registers: [registry] }),
    messages: new Counter({ name: 'escalation_messages_total', help: 'Messages by channel, kind, result (sent, skipped, failed attempt) and team', labelNames: ['channel', 'kind', 'status', 'team'], registers: [registry] }),
    webhookAttempts: new Counter({
      name: 'escalation_webhook_attempts_total',
      help: 'Webhook delivery attempts by endpoint and outcome (delivered, retry, failed, gone, disabled)',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
  };
}

/**
 * Gauges read from Temporal visibility when scraped: open cases by stage and team, open breached cases
 * by kind and team. `count` answers a visibility count query; `team(id)` is the clause of a team's cases.
 */
export function registerCaseGauges(
  m: Metrics,
  count: (query: string) => Promise<number>,
  names: { stage: string; status: string; breachKinds: string; workflowType: string },
  stages: readonly string[],
  breachKinds: readonly string[],
  teams: { ids: readonly string[]; clause: (id: string) => string },
) {
  const open = `WorkflowType = '${names.workflowType}' AND ExecutionStatus = 'Running' AND ${names.status} = 'open'`;
  const gauge = (name: string, help: string, label: string, values: readonly string[], clause: (v: string) => string) =>
    new Gauge({
      name,
      help,
      labelNames: [label, 'team'],
      registers: [m.registry],
      async collect() {
        const pairs = values.flatMap((v) => teams.ids.map((t) => [v, t] as const));
        const counts = await Promise.all(pairs.map(([v, t]) => count(`${open} AND ${clause(v)} AND ${teams.clause(t)}`).catch(() => NaN)));
        pairs.forEach(([v, t], i) => this.set({ [label]: v, team: t }, counts[i]));
      },
    });
  gauge('escalation_open_cases', 'Open cases by stage and team (Temporal visibility, at scrape)', 'stage', stages, (s) => `${names.stage} = '${s}'`);
  gauge('escalation_open_breached_cases', 'Open cases with a breach of each kind, by team (Temporal visibility, at scrape)', 'kind', breachKinds, (k) => `${names.breachKinds} = '${k}'`);
}

/** Express middleware: counts each request under its route pattern (never the raw path: ids stay out of labels). */
export function requestMetrics(m: Metrics): RequestHandler {
  // Each label set's child, made once: prom-client otherwise hashes the labels object at every request.
  // Bounded: the methods Node accepts, the routes, the statuses.
  const counted = new Map<string, { inc(): void }>();
  const timed = new Map<string, { observe(seconds: number): void }>();
  return (req, res, next) => {
    const began = performance.now();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const status = String(res.statusCode);
      const timer = `${req.method} ${route}`;
      const counter = `${timer} ${status}`;
      let c = counted.get(counter);
      if (!c) counted.set(counter, (c = m.requests.labels({ method: req.method, route, status })));
      let t = timed.get(timer);
      if (!t) timed.set(timer, (t = m.requestSeconds.labels({ method: req.method, route })));
      c.inc();
      t.observe((performance.now() - began) / 1000);
    });
    next();
  };
}

/** The Prometheus text: this registry, followed by what `extra` URLs serve (the SDK's endpoint). */
export async function exposition(m: Metrics, extra: string[] = []): Promise<string> {
  const own = await m.registry.metrics();
  const more = await Promise.all(extra.map((url) => fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => (r.ok ? r.text() : ''), () => '')));
  return [own, ...more].filter(Boolean).join('\n');
}

/** A small server for `/metrics` and `/healthz` on METRICS_PORT (the worker, or the API when set). */
export function serveMetrics(p: { port: number; host?: string; metrics: Metrics; extra?: string[]; healthy: () => boolean }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      exposition(p.metrics, p.extra).then(
        (text) => res.writeHead(200, { 'content-type': p.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
      return;
    }
    if (req.url === '/healthz') {
      const ok = p.healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'stopping' }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics or /healthz');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p.port, p.host ?? '0.0.0.0', () => resolve(server));
  });
}
