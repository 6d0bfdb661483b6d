# The clusterflow worker image: Node 20 and the TypeScript sources, run through tsx.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY bin ./bin
COPY tsconfig.json ./
USER node
CMD ["node", "bin/clusterflow.js", "worker"]
