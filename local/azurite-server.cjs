// The local backend's Azurite: the emulator's blob and queue services, started from the
// azurite package's own classes, as its entry (azurite/dist/src/azurite.js) starts them, with
// the same command-line options (local/azurite.ts's azuriteArgs). It starts about twice as
// fast as that entry, which also loads what the local backend never uses: the table service,
// the SQL metadata store (sequelize; only with AZURITE_DB) and Application Insights for
// telemetry (always off here). Data is persisted in --location exactly as that entry does.
// The built package runs this file bundled with those classes (tools/build.mjs): one file to
// load instead of about a thousand modules.
"use strict";
const { mkdirSync } = require("node:fs");
const { dirname, join } = require("node:path");

// Run from the source tree, Azurite's telemetry module would load Application Insights: Node's
// module cache answers it with the stand-in (the built file has the stand-in bundled instead).
try {
  const insights = require.resolve("applicationinsights", { paths: [dirname(require.resolve("azurite/package.json"))] });
  require.cache[insights] = { id: insights, filename: insights, loaded: true, exports: require("./azurite-telemetry-off.cjs") };
} catch {
  // Not installed beside Azurite: then only the bundled stand-in can be asked for.
}

const Environment = require("azurite/dist/src/common/Environment").default;
const Logger = require("azurite/dist/src/common/Logger");
const { setExtentMemoryLimit } = require("azurite/dist/src/common/ConfigurationBase");
const BlobConfiguration = require("azurite/dist/src/blob/BlobConfiguration").default;
const BlobServer = require("azurite/dist/src/blob/BlobServer").default;
const blob = require("azurite/dist/src/blob/utils/constants");
const QueueConfiguration = require("azurite/dist/src/queue/QueueConfiguration").default;
const QueueServer = require("azurite/dist/src/queue/QueueServer").default;
const queue = require("azurite/dist/src/queue/utils/constants");

async function main() {
  const env = new Environment();
  const location = await env.location();
  mkdirSync(location, { recursive: true });
  const debugPath = await env.debug();
  if (debugPath !== undefined) mkdirSync(dirname(debugPath), { recursive: true });
  // What both configurations take after their persistence paths, in this order: access log and
  // its stream, debug log and its file, loose, skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl.
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
