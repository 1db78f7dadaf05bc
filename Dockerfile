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
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:10221/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--config.file=/etc/athena-calculation-exporter/config.yaml"]
