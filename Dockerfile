# syntax=docker/dockerfile:1
# One image for every role: `credits`, `edge`, `all` (src/main.ts), the migration step
# (src/cli/migrate.ts) and the operations CLI (src/cli/index.ts). TypeScript runs through tsx, a
# production dependency, so there is no build step and no compiled output to drift from the source.
ARG NODE_IMAGE=node:20-slim

# Production dependencies only, exactly as package-lock.json pins them.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Files stay owned by root and read-only for the service user; tsx keeps its cache in /tmp.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY proto ./proto
COPY migrations ./migrations
COPY src ./src
# The node image's unprivileged user (uid 1000).
USER node
# 3000 edge HTTP, 50051 CreditsService gRPC, 9464 CreditsService metrics.
EXPOSE 3000 50051 9464
# node is PID 1 and receives SIGTERM itself (no npm or tsx wrapper process in between).
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["src/main.ts", "all"]
