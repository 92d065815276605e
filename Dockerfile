# idsync: the operator image. The TypeScript sources run through tsx (a runtime dependency): no
# build step between git and the cluster. `docker build -t idsync .`
FROM node:20-slim

ENV NODE_ENV=production \
    # tsx caches compiled modules under the temp dir; the chart mounts an emptyDir at /tmp
    # because the root filesystem is read-only.
    TMPDIR=/tmp

WORKDIR /app

# Dependencies first: this layer is reused while only the sources change.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY crds ./crds

# A fixed numeric non-root user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 idsync \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin idsync
USER 10001:10001

EXPOSE 8080
ENTRYPOINT ["node", "bin/idsync.js", "operator"]
