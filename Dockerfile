# remonitor hub: broker + ingest + dashboard in one small image.
#   docker build -t remonitor .
#   docker run -p 8080:8080 -p 1883:1883 -v remonitor-data:/data remonitor
# test/deploy/container.test.ts runs this image's exact start-up and health commands outside Docker.

# Build stage: the full toolchain compiles better-sqlite3 when no prebuilt binary fits, then bundles.
FROM node:22-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first (a cached layer until the lock file changes); their install scripts run on
# rebuild, the project's own `prepare` (the bundle) waits for the sources.
# npm install, not npm ci: see .ci/run (cbor-x's optional prebuilt packages and the lock file).
RUN npm install --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 cbor-extract esbuild
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: the same Debian and Node as the build (the compiled better-sqlite3 must match),
# without compilers; only what the hub reads at run time.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    REMONITOR_HOST=0.0.0.0 \
    REMONITOR_DATA_DIR=/data \
    REMONITOR_HTTP_PORT=8080 \
    REMONITOR_MQTT_PORT=1883
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/hub/storage/sqlite/migrations ./hub/storage/sqlite/migrations
COPY --from=build /app/web/public ./web/public
COPY --from=build /app/deploy/install-agent.sh ./deploy/install-agent.sh
COPY --from=build /app/deploy/remonitor-agent.sh ./deploy/remonitor-agent.sh
# The image's own `node` user (uid 1000) owns the data volume; nothing runs as root.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 8080 1883
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.REMONITOR_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/remonitor.mjs"]
# The container is not a node to monitor: no local agent. `docker run … remonitor hub --broker URL`
# uses an external broker instead.
CMD ["up", "--no-agent"]
