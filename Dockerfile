# syntax=docker/dockerfile:1
# Node.js 22, the same line the tests run on (package.json pins the `node` package).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config.yaml /etc/athena-calculation-exporter/config.yaml
# The image's own unprivileged user; nothing is written at run time, so the
# root filesystem can be mounted read-only.
USER node
EXPOSE 10221
# dist/cli/healthcheck.js speaks TLS or plain HTTP, whatever --web.config.file says, to
# /-/healthy, which basic auth leaves open. Listening elsewhere than :10221? Give its
# [HOST]:PORT: docker run --health-cmd "node dist/cli/healthcheck.js :9000" ...
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "dist/cli/healthcheck.js"]
# A young generation of 2 MiB semi-spaces keeps the peak resident set near what is live
# (README, "Memory a pod needs"); V8 reads it only at startup, so it is a flag here.
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/main.js"]
CMD ["--config.file=/etc/athena-calculation-exporter/config.yaml"]
