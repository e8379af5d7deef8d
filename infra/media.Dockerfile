# syntax=docker/dockerfile:1.7
#
# Media host image. Build from the repository root:
#   docker build -f infra/media.Dockerfile -t nexus-meet/media .
#
# The build stage provisions mediasoup-worker with the same script developers
# run (scripts/setup-worker.mjs): prebuilt download when reachable, otherwise a
# source build against Debian's libraries with the shims and patches in
# media/worker-build/. The runtime stage is debian:bookworm-slim with only the
# shared libraries that binary needs.

# Node is taken from the official image built on the same Debian release, so
# the binaries copied out of it match bookworm's glibc.
FROM node:20-bookworm-slim AS node

FROM debian:bookworm AS build
COPY --from=node /usr/local/ /usr/local/
ENV DEBIAN_FRONTEND=noninteractive
# python3 and ca-certificates: npm's native-module fallback and HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# Any MEDIASOUP_WORKER_BIN value stops mediasoup's postinstall from trying its
# own download/build; setup-worker does that job below. Set only for this step
# so setup-worker does not start by checking a bogus path.
RUN MEDIASOUP_WORKER_BIN=provisioned-by-setup-worker npm ci --no-audit --no-fund
# Build deps are apt-installed by the script itself (root here), including
# meson from bookworm-backports. The cache mount keeps the compiled worker
# across image builds; the binary is copied out of it because cache mounts are
# not part of the image. Progress goes to stderr, the path to stdout.
RUN --mount=type=cache,target=/root/.cache/nexus-meet \
    node scripts/setup-worker.mjs > /tmp/setup-worker.out \
 && install -D -m 0755 "$(tail -n 1 /tmp/setup-worker.out)" /out/mediasoup-worker

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries of the source-built worker (see media/worker-build/README.md);
# a prebuilt worker needs none of them, so they are harmless then.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libuv1 libssl3 libsrtp2-1 libabsl20220623 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/nexus nexus
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=build /out/mediasoup-worker /usr/local/bin/mediasoup-worker
# Fail the image build, not the first call, when a shared library is missing:
# without MEDIASOUP_VERSION a loadable worker exits with 41.
RUN /usr/local/bin/mediasoup-worker; test "$?" -eq 41
COPY --from=build --chown=nexus:nexus /app /app
WORKDIR /app
ENV NODE_ENV=production \
    MEDIASOUP_WORKER_BIN=/usr/local/bin/mediasoup-worker
USER nexus
# The standalone media host entry, run as TypeScript through tsx (installed
# in /app/node_modules); infra/docker-compose.yml uses the same command.
CMD ["node", "--import", "tsx", "media/src/entry/node.ts"]
