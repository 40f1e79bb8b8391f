# Countersign in a container: non-root, read-only root filesystem, state in one volume (/data).
#
#   docker build -t countersign .
#   docker run -d --name countersign --read-only --tmpfs /tmp --cap-drop ALL \
#     --security-opt no-new-privileges -p 3000:3000 \
#     -v countersign-data:/data --env-file /etc/countersign/countersign.env countersign
#
# The server is PID 1's only child of note: CMD runs node itself (never npm), so `docker stop`
# (SIGTERM) stops it cleanly and `docker kill -s HUP` reloads the policy file.

# --- build: compile TypeScript, build better-sqlite3 and the one-file CLI, then drop dev deps ---
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY blocks ./blocks
COPY drizzle ./drizzle
# npm ci runs `prepare`, which builds dist/ (server) and dist/countersign.mjs (client CLI).
RUN npm ci && npm prune --omit=dev && npm cache clean --force

# --- run ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_PATH=/data/countersign.db \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/drizzle ./drizzle
COPY manifest.yml manifest.socket-mode.yml policy.example.yml ./
# The only writable place: the database, its WAL files and the generated audit key live here.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=4", "dist/src/main.js"]
