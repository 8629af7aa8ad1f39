// The container's health: GET /healthz on HEALTHCHECK_PORT (the worker's METRICS_PORT), else PORT (the API).
const port = process.env.HEALTHCHECK_PORT ?? process.env.PORT ?? '3000';
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
