# syntax=docker/dockerfile:1
# One image for every role: `credits`, `edge`, `all` (dist/src/main.js), the migration step
# (dist/src/cli/migrate.js) and the operations CLI (dist/src/cli/index.js). It runs compiled
# JavaScript: TypeScript, tsx and the embedded PostgreSQL stay in the build stage.
ARG NODE_IMAGE=node:20-slim

# Build: every dependency, then tsc to dist/ with proto/ and the generated API docs beside it.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY docs/api ./docs/api
COPY migrations ./migrations
COPY src ./src
RUN npm run build

# Production dependencies only, exactly as package-lock.json pins them.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Files stay owned by root and read-only for the service user.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The node image's unprivileged user (uid 1000).
USER node
# 3000 edge HTTP, 50051 CreditsService gRPC, 9464 CreditsService metrics.
EXPOSE 3000 50051 9464
# node is PID 1 and receives SIGTERM itself (no npm wrapper process in between).
ENTRYPOINT ["node", "--enable-source-maps"]
CMD ["dist/src/main.js", "all"]
