# One image for every Reflex service; docker-compose.yml picks the service with `start <name>`.
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY . .
# Runtime dependencies only; Node 24 runs the TypeScript sources directly (type stripping).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
ENV REFLEX_HOST=0.0.0.0 \
    REFLEX_DATA_DIR=/data \
    REFLEX_PACKS_PATH=/app/packs
VOLUME ["/data"]
EXPOSE 8180
USER node
ENTRYPOINT ["node", "services/launcher/bin/reflex.js"]
CMD ["start"]
