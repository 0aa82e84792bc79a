// The local backend's Azurite: the emulator's blob and queue services, started from the
// azurite package's own classes, as its entry (azurite/dist/src/azurite.js) starts them, with
// the same command-line options (local/azurite.ts's azuriteArgs). It starts about twice as
// fast as that entry, which also loads what the local backend never uses: the table service,
// the SQL metadata store (sequelize; only with AZURITE_DB) and Application Insights for
// telemetry (always off here). Data is persisted in --location exactly as that entry does.
"use strict";
const { mkdirSync } = require("node:fs");
const { dirname, join } = require("node:path");

const src = dirname(require.resolve("azurite/dist/src/azurite.js"));
const fromAzurite = (path) => require(join(src, path));

// Azurite's telemetry module loads Application Insights when it is first required; telemetry
// stays off (the client is never initialized), so the real module is loaded only if used.
const insightsPath = require.resolve("applicationinsights", { paths: [src] });
let insights;
const deferredInsights = new Proxy(
  {},
  {
    get(_, name) {
      if (!insights) {
        delete require.cache[insightsPath];
        insights = require(insightsPath);
      }
      return insights[name];
    },
  },
);
require.cache[insightsPath] = { id: insightsPath, filename: insightsPath, loaded: true, exports: deferredInsights };

const Environment = fromAzurite("common/Environment").default;
const Logger = fromAzurite("common/Logger");
const { setExtentMemoryLimit } = fromAzurite("common/ConfigurationBase");
const BlobConfiguration = fromAzurite("blob/BlobConfiguration").default;
const BlobServer = fromAzurite("blob/BlobServer").default;
const blob = fromAzurite("blob/utils/constants");
const QueueConfiguration = fromAzurite("queue/QueueConfiguration").default;
const QueueServer = fromAzurite("queue/QueueServer").default;
const queue = fromAzurite("queue/utils/constants");

async function main() {
  const env = new Environment();
  const location = await env.location();
  mkdirSync(location, { recursive: true });
  const debugPath = await env.debug();
  if (debugPath !== undefined) mkdirSync(dirname(debugPath), { recursive: true });
  const common = [
    !env.silent(),
    undefined,
    debugPath !== undefined,
    debugPath,
    env.loose(),
    env.skipApiVersionCheck(),
    env.cert(),
    env.key(),
    env.pwd(),
    env.oauth(),
    env.disableProductStyleUrl(),
  ];

  blob.DEFAULT_BLOB_PERSISTENCE_ARRAY[0].locationPath = join(location, blob.DEFAULT_BLOB_PERSISTENCE_PATH);
  const blobConfig = new BlobConfiguration(
    env.blobHost(),
    env.blobPort(),
    env.blobKeepAliveTimeout(),
    join(location, blob.DEFAULT_BLOB_LOKI_DB_PATH),
    join(location, blob.DEFAULT_BLOB_EXTENT_LOKI_DB_PATH),
    blob.DEFAULT_BLOB_PERSISTENCE_ARRAY,
    ...common,
    env.inMemoryPersistence(),
  );
  queue.DEFAULT_QUEUE_PERSISTENCE_ARRAY[0].locationPath = join(location, queue.DEFAULT_QUEUE_PERSISTENCE_PATH);
  const queueConfig = new QueueConfiguration(
    env.queueHost(),
    env.queuePort(),
    env.queueKeepAliveTimeout(),
    join(location, queue.DEFAULT_QUEUE_LOKI_DB_PATH),
    join(location, queue.DEFAULT_QUEUE_EXTENT_LOKI_DB_PATH),
    queue.DEFAULT_QUEUE_PERSISTENCE_ARRAY,
    ...common,
    env.inMemoryPersistence(),
  );
  Logger.configLogger(blobConfig.enableDebugLog, blobConfig.debugLogFilePath);
  setExtentMemoryLimit(env, true);

  const blobServer = new BlobServer(blobConfig);
  const queueServer = new QueueServer(queueConfig);
  // The two services start side by side; local/azurite.ts's listeningPorts reads these lines.
  await Promise.all([
    blobServer.start().then(() => console.log(`Azurite Blob service is successfully listening at ${blobServer.getHttpServerAddress()}`)),
    queueServer.start().then(() => console.log(`Azurite Queue service is successfully listening at ${queueServer.getHttpServerAddress()}`)),
  ]);

  // Closing the servers saves their data; the process then ends when nothing is left to do.
  const shutdown = () => {
    console.log("Azurite is closing...");
    void Promise.all([blobServer.close(), queueServer.close()]).then(() => console.log("Azurite closed"));
  };
  process.once("SIGINT", shutdown).once("SIGTERM", shutdown);
}

main().catch((error) => {
  console.error(`Exit due to unhandled error: ${error.message}`);
  process.exit(1);
});
