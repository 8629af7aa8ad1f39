# One image for both parts: `npm run worker` or `npm run api` (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false && npm cache clean --force
COPY . .
ENV NODE_ENV=production
USER node
CMD ["npm", "run", "api"]
