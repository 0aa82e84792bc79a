import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AggregateAuthenticationError, CredentialUnavailableError } from "@azure/identity";
import { StorageCredentialError, StorageUnreachableError } from "../../azure/errors.ts";
import { connectStorage, credentialError } from "../../azure/storage-connection.ts";
import { execute } from "../../cli/commands.ts";
import { parseCommandLine } from "../../cli/main.ts";
import { FunctionExecutor, LithopsError } from "../../client/index.ts";

/** A loopback port nothing listens on: requests to it are refused at once, and none leaves this machine. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Azure Storage that cannot be reached, or no credential for it, gives a LithopsError naming
 * the setting to check at the first request, not a raw RestError after six retries or an
 * AggregateAuthenticationError (issue 17, point 5).
 */
describe("Azure storage failures are LithopsErrors naming the setting to check", () => {
  let folder: string;
  let endpoint: string;
  const accountKey = Buffer.from("not a real key").toString("base64");
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), "lithops-azure-errors-"));
    endpoint = `http://127.0.0.1:${await closedPort()}/lithopsunreachable`;
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it("an unreachable endpoint fails the first request at once with StorageUnreachableError naming the account and endpoint", async () => {
    const clients = connectStorage({ accountName: "lithopsunreachable", accountKey, blobEndpoint: endpoint, queueEndpoint: endpoint, container: "jobs" });
    for (const request of [() => clients.queueService.getQueueClient("q").exists(), () => clients.container.getBlockBlobClient("k").download(0, 1)]) {
      const began = Date.now();
      const error = await request().then(
        () => assert.fail("the request should fail"),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof StorageUnreachableError && error instanceof LithopsError, `got ${String(error)}`);
      assert.match(
        error.message,
        /storage account 'lithopsunreachable' cannot be reached at http:\/\/127\.0\.0\.1:\d+\/lithopsunreachable \(connect ECONNREFUSED/,
      );
      assert.match(error.message, /check azure_storage\.(queue|blob)_endpoint/);
      // Without retries: the SDK's six tries took 5-6 s.
      assert.ok(Date.now() - began < 3000, `took ${Date.now() - began} ms`);
    }
  });

  it("through the executor: callAsync rejects with that LithopsError", async () => {
    const fexec = new FunctionExecutor({
      backend: "azure_containers",
      progress: false,
      logLevel: "WARNING",
      config: {
        azure_storage: { storage_account_name: "lithopsunreachable", storage_account_key: accountKey, blob_endpoint: endpoint, queue_endpoint: endpoint },
      },
    });
    try {
      await assert.rejects(
        fexec.callAsync((x: number) => x, 1),
        (error: unknown) => error instanceof StorageUnreachableError,
      );
    } finally {
      await fexec.close();
    }
  });

  it("the CLI prints it in one line, without a stack trace unless -d", async () => {
    const config = join(folder, "aca.yaml");
    writeFileSync(
      config,
      `lithops:\n  backend: azure_containers\nazure_storage:\n  storage_account_name: lithopsunreachable\n  storage_account_key: ${accountKey}\n  blob_endpoint: ${endpoint}\n  queue_endpoint: ${endpoint}\n`,
    );
    const run = async (...args: string[]) => {
      const { request } = parseCommandLine(["hello", "-c", config, ...args], { writeOut: () => undefined, writeErr: () => undefined });
      assert.ok(request);
      const err: string[] = [];
      const status = await execute(
        request,
        { out: () => undefined, err: (line) => err.push(line), debug: request.debug },
        { ...process.env, LITHOPS_STACK: "" },
      );
      return { status, err: err.join("\n") };
    };
    const plain = await run();
    assert.equal(plain.status, 1);
    assert.match(plain.err, /^Error: storage account 'lithopsunreachable' cannot be reached at/);
    assert.doesNotMatch(plain.err, /\n\s+at /, "no stack trace without -d");
    const debug = await run("-d");
    assert.match(debug.err, /\n\s+at /, "-d shows the stack");
  });

  it("no credential: StorageCredentialError names the account, what was tried and how to sign in", () => {
    const failure = new AggregateAuthenticationError(
      [
        new CredentialUnavailableError("EnvironmentCredential is unavailable. No underlying credential could be used."),
        new CredentialUnavailableError("Azure CLI could not be found. Please visit https://aka.ms/azure-cli for installation instructions."),
      ],
      "ChainedTokenCredential authentication failed.",
    );
    const error = credentialError("myaccount", failure);
    assert.ok(error instanceof StorageCredentialError && error instanceof LithopsError);
    assert.match(error.message, /no Azure credential for storage account 'myaccount' \(azure_storage\.storage_account_name\)/);
    assert.match(error.message, /EnvironmentCredential is unavailable; Azure CLI could not be found/);
    assert.match(error.message, /Sign in with `az login`/);
    assert.match(error.message, /azure_storage\.storage_account_key/);
    assert.equal(error.cause, failure);
  });
});
