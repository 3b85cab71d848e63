# DS01 ChatOps: one image for the bot (default command) and the worker (`node dist/workers/main.js`).
#   docker build -t ds01-chatops .      (docker compose builds it for you)
# Stage 1 compiles TypeScript; stage 2 holds only the compiled output and production dependencies.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/copy-assets.mjs
COPY src src
COPY workers workers
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
# tini is PID 1: it forwards SIGTERM to node (so the worker finishes its running jobs before it
# stops) and reaps zombies. npm is never PID 1: it would swallow the signal.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The bot runs as the image's unprivileged `node` user (uid 1000). The worker overrides this in
# docker-compose.yml: it talks to the host's Docker engine and acts in users' workspaces as them.
USER node
EXPOSE 3000 9091
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
