# syntax=docker/dockerfile:1.7
#
# Control plane image (stateless Hono API with the built web client in front of it:
# server/src/entry/control.ts). Build from the repository root:
#   docker build -f infra/control.Dockerfile -t nexus-meet/control .
#
# The API is bundled by esbuild into one ES module, so the runtime stage holds node, that file, the SQL
# migrations and PGlite (kept out of the bundle because it loads its WebAssembly from its own directory;
# drizzle/src/index.ts imports it statically even when DATABASE_URL names PostgreSQL).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# Control needs no native addon and no mediasoup worker; skipping install scripts keeps mediasoup from
# downloading or compiling its worker (MEDIASOUP_WORKER_BIN also stops it on npm versions that run them).
RUN MEDIASOUP_WORKER_BIN=unused npm ci --no-audit --no-fund --ignore-scripts
RUN node web/build.mjs && cp -r web/dist /out-web
RUN npx esbuild server/src/entry/control.ts --bundle --platform=node --target=node20 --format=esm \
      --outfile=/out/control/index.mjs --external:pg-native --external:@electric-sql/pglite \
      "--banner:js=import { createRequire as __nexusCreateRequire } from 'node:module'; const require = __nexusCreateRequire(import.meta.url);" \
 && cp -r drizzle/migrations /out/migrations \
 && cp -r /out-web /out/web \
 && mkdir -p /out/node_modules/@electric-sql \
 && cp -r node_modules/@electric-sql/pglite /out/node_modules/@electric-sql/pglite

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8095 \
    HOST=0.0.0.0 \
    WEB_DIR=/app/web \
    LOG_DIR=-
WORKDIR /app
# The migrator resolves ../migrations from the bundle, i.e. /app/migrations.
COPY --from=build --chown=node:node /out/ /app/
USER node
EXPOSE 8095
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8095)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "control/index.mjs"]
