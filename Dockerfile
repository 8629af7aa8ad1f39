# One image for both parts of the service: the API (default) and the worker (`node --import tsx worker/main.ts`).
# Multi-stage: production dependencies only, on a supported Node LTS, running as the unprivileged `node` user.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY api ./api
COPY config ./config
COPY playbook ./playbook
COPY scripts ./scripts
COPY worker ./worker
COPY workflows ./workflows
RUN mkdir -p /data && chown node:node /data
ENV DATA_DIR=/data
USER node
EXPOSE 3000
# The API's /healthz (Temporal reachable); the worker sets HEALTHCHECK_PORT to its METRICS_PORT.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
CMD ["node", "--import", "tsx", "api/main.ts"]
