import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it, type TestContext } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { type ExecutorOptions, resolveConfig } from "../../client/config.ts";
import { type LithopsConfigInput, readConfigFile, unusedKeyNotes, validateConfigFile } from "../../client/config-file.ts";
import { CallTimeoutError } from "../../client/errors.ts";
import { RetryingFunctionExecutor } from "../../client/retrying-executor.ts";
import { RetriesExhaustedError } from "../../client/errors.ts";
import { executorPrefix } from "../../protocol/keys.ts";
import { MAX_CALLS_PER_MESSAGE } from "../../protocol/message.ts";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import { suiteExecutor, testExecutor } from "../support/executor.ts";
import { suiteFolder } from "../support/temp-folder.ts";
import { DEFAULT_JOB_CONTAINER } from "../../azure/storage-names.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * A Lithops user's config file works here: every key Lithops documents for the lithops, azure,
 * azure_storage, azure_containers and localhost sections is accepted; the keys with a meaning
 * here change what the executor does; deployment keys are logged once with where they live in
 * the stack config; an undocumented key is refused with the nearest valid one suggested.
 */

const ROOT = REPO_ROOT;
// The built client (dist/, which `npm test` builds first): a child process loads it faster than the sources through tsx.
const CLIENT = pathToFileURL(join(ROOT, "dist", "client", "index.js")).href;

// No environment: neither LITHOPS_CONFIG_FILE nor a worker's variables apply.
const resolve = (options: ExecutorOptions) => resolveConfig(options, {});

/** The config Lithops's page for Azure Container Apps shows, with its runtime_memory example. */
const LITHOPS_PAGE_CONFIG = `
lithops:
    backend : azure_containers

azure:
    resource_group: LithopsResourceGroup
    region: westeurope

azure_storage:
    storage_account_name: lithops0sa25s1
    storage_account_key: c2VjcmV0LWtleS1ub3QtcmVhbA==

azure_containers:
    runtime_memory: 1024
`;

/** Every key Lithops documents for these sections (its docs, config template and config modules). */
const EVERY_LITHOPS_KEY = `
lithops:
  backend: azure_containers
  storage: azure_storage
  mode: serverless
  data_cleaner: true
  monitoring: storage
  monitoring_interval: 2
  data_limit: 4
  execution_timeout: 1800
  include_modules: []
  exclude_modules: null
  log_level: debug
  log_format: "%(asctime)s [%(levelname)s] %(name)s -- %(message)s"
  log_stream: ext://sys.stderr
  log_filename: lithops.log
  customized_runtime: false
  chunksize: 4
  retries: 3
  workers: 50
azure:
  resource_group: LithopsResourceGroup
  region: westeurope
  subscription_id: 00000000-0000-0000-0000-000000000000
azure_storage:
  storage_account_name: lithops0sa25s1
  storage_account_key: c2VjcmV0LWtleS1ub3QtcmVhbA==
  storage_bucket: lithops-data
azure_containers:
  resource_group: LithopsResourceGroup
  region: westeurope
  location: westeurope
  environment: lithops
  docker_server: index.docker.io
  docker_user: myuser
  docker_password: not-a-real-token
  max_workers: 1000
  worker_processes: 2
  runtime: myaccount/node-ml:1
  runtime_memory: 2048
  runtime_timeout: 600
  trigger: pub/sub
  invocation_type: event
  invoke_pool_threads: 32
  runtime_include_function: false
localhost:
  runtime: python3
  version: 2
  worker_processes: 4
`;

/** The keys above that are deployment settings here (logged with their stack-config home). */
const DEPLOYMENT_KEYS = [
  "azure.resource_group",
  "azure.region",
  "azure.subscription_id",
  "azure_containers.resource_group",
  "azure_containers.region",
  "azure_containers.location",
  "azure_containers.environment",
  "azure_containers.docker_server",
  "azure_containers.docker_user",
  "azure_containers.docker_password",
  "azure_containers.trigger",
  "azure_containers.invocation_type",
];

/** The keys above that are accepted and change nothing here (logged with the reason). */
const NO_EFFECT_KEYS = [
  "lithops.monitoring_interval",
  "lithops.data_limit",
  "lithops.include_modules",
  "lithops.exclude_modules",
  "lithops.log_format",
  "lithops.log_stream",
  "lithops.log_filename",
  "lithops.customized_runtime",
  "azure_containers.invoke_pool_threads",
  "azure_containers.runtime_include_function",
  "localhost.runtime",
  "localhost.version",
];

/** What a process writes to stderr while `run` runs (the client's log lines). */
async function stderrOf(t: TestContext, run: () => Promise<unknown>): Promise<string> {
  let text = "";
  t.mock.method(process.stderr, "write", (chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  });
  try {
    await run();
  } finally {
    t.mock.restoreAll();
  }
  return text;
}

/** The stderr of a separate Node.js process that creates two executors with `config` and closes them. */
function stderrOfTwoExecutors(config: LithopsConfigInput): string {
  const script = [
    `import { FunctionExecutor } from ${JSON.stringify(CLIENT)};`,
    `const config = ${JSON.stringify(config)};`,
    "for (let i = 0; i < 2; i++) await new FunctionExecutor({ config, progress: false }).close();",
  ].join("\n");
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, LITHOPS_CONFIG_FILE: "", LITHOPS_STACK: "" },
  });
  assert.equal(child.status, 0, child.stderr);
  return child.stderr;
}

describe("Lithops config files", () => {
  const { file } = suiteFolder("lithops-config-lithops-test-");

  it("loads the config from Lithops's page for Azure Container Apps", () => {
    const config = resolve({ config: file("lithops-page.yaml", LITHOPS_PAGE_CONFIG) });
    assert.equal(config.backend, "azure_containers");
    assert.equal(config.storage.accountName, "lithops0sa25s1");
    assert.equal(config.storage.accountKey, "c2VjcmV0LWtleS1ub3QtcmVhbA==");
    assert.equal(config.storage.container, DEFAULT_JOB_CONTAINER);
    assert.equal(config.runtimeMemory, 1024);
  });

  it("loads a config using every key Lithops documents, honouring the ones with a meaning here", () => {
    const path = file("every-key.yaml", EVERY_LITHOPS_KEY);
    const config = resolve({ config: path });
    assert.equal(config.backend, "azure_containers");
    assert.equal(config.logLevel, "DEBUG");
    assert.equal(config.dataCleaner, true);
    assert.equal(config.retries, 3);
    assert.equal(config.chunksize, 4);
    assert.equal(config.runtime, "myaccount/node-ml:1");
    assert.equal(config.runtimeMemory, 2048);
    assert.equal(config.runtimeTimeout, 600);
    assert.equal(config.executionTimeout, 600, "execution_timeout 1800 is capped at runtime_timeout 600");
    assert.equal(config.maxWorkers, 1000);
    assert.equal(config.workerProcesses, 2);
    assert.equal(config.storage.container, "lithops-data");

    // Each key that is not honoured gets exactly one note: where it lives, or why it changes nothing.
    const notes = unusedKeyNotes(readConfigFile(path));
    for (const key of DEPLOYMENT_KEYS) {
      assert.equal(notes.filter((note) => note.startsWith(`${key} is a deployment setting: `)).length, 1, key);
    }
    for (const key of NO_EFFECT_KEYS) {
      assert.equal(notes.filter((note) => note.startsWith(`${key} has no effect here: `)).length, 1, key);
    }
    assert.equal(notes.length, DEPLOYMENT_KEYS.length + NO_EFFECT_KEYS.length, notes.join("\n"));
  });

  it("takes log levels in any case, and Lithops's null as no logging, in the file and the option", () => {
    for (const level of ["info", "Warning", "DEBUG", "critical"]) {
      assert.equal(resolve({ config: { lithops: { log_level: level } } }).logLevel, level.toUpperCase());
      assert.equal(resolve({ logLevel: level as ExecutorOptions["logLevel"], config: {} }).logLevel, level.toUpperCase());
    }
    assert.equal(resolve({ config: { lithops: { log_level: null } } }).logLevel, "CRITICAL");
    assert.throws(
      () => resolve({ config: { lithops: { log_level: "verbose" } } }),
      /lithops\.log_level: "VERBOSE" is not valid: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL/,
    );
    assert.throws(
      () => resolve({ logLevel: "verbose" as never, config: {} }),
      /new FunctionExecutor: logLevel: "VERBOSE" is not valid: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL/,
    );
  });

  it("takes Lithops's backend and mode names for the local backend, and its older keys", () => {
    assert.equal(resolve({ config: { lithops: { backend: "localhost" } } }).backend, "local");
    assert.equal(resolve({ backend: "localhost", config: {} }).backend, "local");
    assert.equal(resolve({ config: { lithops: { mode: "localhost" } } }).backend, "local");
    const serverless = resolve({ config: { lithops: { mode: "serverless" }, azure_storage: { storage_account_name: "acct1" } } });
    assert.equal(serverless.backend, "azure_containers");
    assert.equal(resolve({ config: { lithops: { mode: "serverless", backend: "localhost" } } }).backend, "local", "backend wins over mode");
    assert.throws(
      () => resolve({ config: { lithops: { mode: "standalone" } } as never }),
      /lithops\.mode: "standalone" is not valid: use localhost or serverless/,
    );
    assert.equal(resolve({ config: { localhost: { worker_processes: 3 } } }).maxWorkers, 3, "localhost.worker_processes: that many local worker processes");
    assert.equal(resolve({ config: { localhost: { worker_processes: 3 }, local: { max_workers: 5 } } }).maxWorkers, 5, "our local.max_workers wins");
    assert.equal(resolve({ config: { lithops: { workers: 7 } } }).maxWorkers, 7);
  });

  it("refuses localhost storage for azure_containers, monitoring other than storage, and a chunksize over a message's limit", () => {
    const config = { lithops: { backend: "azure_containers", storage: "localhost" }, azure_storage: { storage_account_name: "acct1" } } as const;
    assert.throws(() => resolve({ config }), /lithops\.storage: "localhost" is storage on this machine.*use azure_storage/);
    assert.throws(() => resolve({ config: { lithops: { monitoring: "rabbitmq" } } as never }), /lithops\.monitoring: "rabbitmq" is not valid: use "storage"/);
    assert.throws(
      () => resolve({ config: { lithops: { chunksize: MAX_CALLS_PER_MESSAGE + 1 } } }),
      new RegExp(`lithops\\.chunksize: ${MAX_CALLS_PER_MESSAGE + 1} is not valid: use a whole number from 1 to ${MAX_CALLS_PER_MESSAGE}`),
    );
  });

  it("refuses a key nobody documents, naming it and the nearest valid key", () => {
    const cases: [LithopsConfigInput, RegExp][] = [
      [{ azure_containers: { docker_sever: "index.docker.io" } } as never, /azure_containers: unknown key "docker_sever": did you mean "docker_server"\?/],
      [{ lithops: { exection_timeout: 60 } } as never, /lithops: unknown key "exection_timeout": did you mean "execution_timeout"\?/],
      [{ azure_container: {} } as never, /config is invalid:\n {2}unknown key "azure_container": did you mean "azure_containers"\?/],
      [{ localhost: { worker_process: 2 } } as never, /localhost: unknown key "worker_process": did you mean "worker_processes"\?/],
      [
        { azure_containers: { runtimes: [{ name: "default", memory: 512, queue: "q", poison_queue: "p", app: "a", apps: "b" }] } } as never,
        /azure_containers\.runtimes\.0: unknown key "apps": did you mean "app"\?/,
      ],
    ];
    for (const [config, expected] of cases) assert.throws(() => validateConfigFile(config), expected);
    // Nothing near: the valid keys are listed instead of a far-fetched guess.
    assert.throws(() => validateConfigFile({ azure: { tenant: "x" } } as never), /azure: unknown key "tenant": valid: resource_group, region, subscription_id/);
  });

  it("logs each deployment key once per process, at info, with its stack-config location", () => {
    const config: LithopsConfigInput = {
      azure: { region: "westeurope" },
      azure_containers: { docker_server: "index.docker.io", docker_password: "not-a-real-token" },
    };
    const lines = stderrOfTwoExecutors(config).split("\n");
    const noted = (key: string) => lines.filter((line) => line.includes(`${key} is a deployment setting`));
    assert.equal(noted("azure_containers.docker_server").length, 1, lines.join("\n"));
    assert.match(noted("azure_containers.docker_server")[0], /^lithops-aca INFO \[config\] .*set lithops-aca:registry in Pulumi\.<stack>\.yaml/);
    assert.equal(noted("azure.region").length, 1);
    assert.match(noted("azure.region")[0], /set azure-native:location in Pulumi\.<stack>\.yaml/);
    assert.equal(noted("azure_containers.docker_password").length, 1);
    assert.match(noted("azure_containers.docker_password")[0], /pulumi config set --secret lithops-aca:dockerHubToken/);
    assert.ok(!lines.join("\n").includes("not-a-real-token"), "a secret's value is never logged");

    const quiet = stderrOfTwoExecutors({ ...config, lithops: { log_level: "warning" } });
    assert.ok(!quiet.includes("deployment setting"), quiet);
  });

  it("does not note the keys a stack's clientConfig output writes to describe the stack", () => {
    const written = validateConfigFile({
      lithops: { backend: "azure_containers", storage: "azure_storage" },
      azure_storage: { storage_account_name: "acct1" },
      azure_containers: { resource_group: "rg-1", region: "westeurope", environment_id: "/subscriptions/x", runtimes: [] },
    });
    assert.deepEqual(unusedKeyNotes(written), []);
    const handWritten = validateConfigFile({ azure_containers: { resource_group: "rg-1" } });
    assert.deepEqual(unusedKeyNotes(handWritten).length, 1);
  });
});

describe("honoured Lithops keys on the local backend", () => {
  const fexec = suiteExecutor({
    backend: undefined,
    maxWorkers: undefined,
    logLevel: undefined,
    config: { lithops: { backend: "localhost", log_level: "debug", execution_timeout: 1, retries: 2 }, localhost: { worker_processes: 2 } },
  });

  it("backend: localhost runs calls on the local backend, with localhost.worker_processes workers", async () => {
    assert.equal(fexec().config.backend, "local");
    assert.equal(fexec().config.maxWorkers, 2);
    const future = await fexec().callAsync((x: number) => x + 7, 3);
    assert.equal(await fexec().getResult(future), 10);
    assert.match(future.stats.workerId ?? "", /^local-/);
  });

  it("log_level: debug shows the executor's debug lines", async (t) => {
    const logged = await stderrOf(t, async () => fexec().getResult(await fexec().callAsync((x: number) => x * 2, 4)));
    assert.match(logged, /lithops-aca DEBUG \[[^\]]+\] A\d{3}: 1 calls in 1 messages/);
  });

  it("execution_timeout is the calls' timeout; a call's timeout option wins", async () => {
    const sleepy = async (seconds: number) => {
      await new Promise((done) => setTimeout(done, seconds * 1000));
      return seconds;
    };
    const timedOut = await fexec().callAsync(sleepy, 3);
    await assert.rejects(fexec().getResult(timedOut), (error: unknown) => error instanceof CallTimeoutError);
    const longer = await fexec().callAsync(sleepy, 2, { timeout: 30 });
    assert.equal(await fexec().getResult(longer), 2);
  });

  it("retries is RetryingFunctionExecutor.map's default; its retries option wins", async () => {
    const retrying = new RetryingFunctionExecutor(fexec());
    const alwaysFails = (x: number) => {
      throw new Error(`no ${x}`);
    };
    const [byConfig] = await retrying.map(alwaysFails, [1]);
    const [byOption] = await retrying.map(alwaysFails, [2], { retries: 0 });
    await retrying.wait([byConfig, byOption], { throwExcept: false });
    assert.equal(byConfig.attempts, 3, "the first run and lithops.retries: 2 more");
    assert.equal(byOption.attempts, 1);
    assert.ok(byConfig.error() instanceof RetriesExhaustedError);
  });
});

describe("data_cleaner on close", () => {
  let azurite: Azurite;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite.stop();
  });

  /** How many blobs an executor with `data_cleaner: clean` leaves in storage after one call and close(). */
  async function blobsLeft(clean: boolean): Promise<number> {
    const fexec = testExecutor({ config: { lithops: { data_cleaner: clean }, local: { connection_string: azurite.connectionString } } });
    try {
      assert.equal(await fexec.getResult(await fexec.callAsync((x: number) => x + 1, 1)), 2);
    } finally {
      await fexec.close();
    }
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(fexec.config.storage.container);
    let count = 0;
    for await (const _blob of container.listBlobsFlat({ prefix: executorPrefix(fexec.executorId) })) count += 1;
    return count;
  }

  it("true removes the executor's job data when it closes; false (the default here) keeps it", async () => {
    assert.equal(await blobsLeft(true), 0);
    assert.ok((await blobsLeft(false)) > 0, "without data_cleaner the job's data stays until clean()");
  });
});
