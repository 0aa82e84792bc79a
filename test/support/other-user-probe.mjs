// Run as another OS user (test/local/local-isolation.test.ts): tries to read, write and queue
// in a data folder it does not own, with the well-known development key, and prints what happened.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import { BlobServiceClient } from "@azure/storage-blob";

const [dir, blobPort, queuePort] = process.argv.slice(2);
const DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const account = "devstoreaccount1";
const connectionString =
  `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${DEV_KEY};` +
  `BlobEndpoint=http://127.0.0.1:${blobPort}/${account};QueueEndpoint=http://127.0.0.1:${queuePort}/${account};`;

const outcome = async (attempt) => {
  try {
    await attempt();
    return "allowed";
  } catch (error) {
    return error.statusCode ? `HTTP ${error.statusCode}` : (error.code ?? error.message);
  }
};

const retry = { retryOptions: { maxTries: 1 } };
const queues = QueueServiceClient.fromConnectionString(connectionString, retry);
const blobs = BlobServiceClient.fromConnectionString(connectionString, retry);
const result = {
  uid: process.getuid(),
  listFolder: await outcome(() => readdirSync(dir)),
  readSigningKey: await outcome(() => readFileSync(join(dir, "signing-key"))),
  readAccountKey: await outcome(() => readFileSync(join(dir, "account-key"))),
  writeFolder: await outcome(() => writeFileSync(join(dir, "planted"), "x")),
  listQueues: await outcome(async () => {
    for await (const _ of queues.listQueues()) break;
  }),
  queueMessage: await outcome(() => queues.getQueueClient("probe-queue").sendMessage("{}")),
  listContainers: await outcome(async () => {
    for await (const _ of blobs.listContainers()) break;
  }),
  writeBlob: await outcome(() => blobs.getContainerClient("lithops").getBlockBlobClient("planted").upload("x", 1)),
};
process.stdout.write(JSON.stringify(result));
