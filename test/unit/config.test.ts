import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type ExecutorOptions, resolveConfig } from "../../client/config.ts";
import { readConfigFile } from "../../client/config-file.ts";
import { ConfigError } from "../../client/errors.ts";
import { ALLOWED_MEMORY_MB } from "../../runtime-model/memory.ts";
import { suiteFolder } from "../support/temp-folder.ts";

/** A ConfigError thrown by `run`, for assertions on its message. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("no error was thrown");
}

// No environment: neither LITHOPS_CONFIG_FILE nor a worker's variables apply unless a test sets them.
const resolve = (options: ExecutorOptions, env: NodeJS.ProcessEnv = {}) => resolveConfig(options, env);

describe("config", () => {
  const { file, path: folder } = suiteFolder("lithops-config-test-");

  it("rejects an unknown backend option, naming it and the valid ones", () => {
    const { message } = configError(() => resolve({ backend: "foo" as never, config: {} }));
    assert.match(message, /"foo"/);
    assert.match(message, /local, azure_containers/);
  });

  it("rejects an unknown backend in the config file, naming it and the valid ones", () => {
    const path = file("backend.yaml", "lithops:\n  backend: foo\n");
    const { message } = configError(() => resolve({ config: path }));
    assert.match(message, /lithops\.backend/);
    assert.match(message, /"foo"/);
    assert.match(message, /local.*azure_containers/);
  });

  it("rejects runtime_memory 1000 from the file or the options, naming it and the allowed sizes", () => {
    const allowed = ALLOWED_MEMORY_MB.join(", ");
    for (const options of [{ config: file("memory.yaml", "azure_containers:\n  runtime_memory: 1000\n") }, { runtimeMemory: 1000, config: {} }]) {
      const { message } = configError(() => resolve(options));
      assert.match(message, /(azure_containers\.runtime_memory|runtimeMemory): 1000 MB is not an Azure Container Apps size/);
      assert.ok(message.includes(allowed), message);
    }
  });

  it("rejects a file that is not valid YAML, naming the file", () => {
    const path = file("broken.yaml", "lithops:\n  backend: [local\n  log_level: INFO\n");
    const { message } = configError(() => readConfigFile(path));
    assert.ok(message.includes(path), message);
    assert.match(message, /is not valid YAML/);
  });

  it("names the file that cannot be read", () => {
    const missing = join(folder(), "missing.yaml");
    assert.ok(configError(() => resolve({ config: missing })).message.includes(missing));
  });

  it("rejects a value of the wrong type, naming the key path and the value", () => {
    const path = file("type.yaml", "azure_containers:\n  runtime_memory: big\n");
    const { message } = configError(() => readConfigFile(path));
    assert.ok(message.includes(path), message);
    assert.match(message, /azure_containers\.runtime_memory: "big" is not valid: use one of 512, 1024, .*, 8192 \(MB\)/);
  });

  it("rejects unknown keys, naming them and the nearest valid key", () => {
    const { message } = configError(() => resolve({ config: { azure_containers: { runtime_memroy: 1024 } } as never }));
    assert.match(message, /azure_containers: unknown key "runtime_memroy": did you mean "runtime_memory"\?/);
    assert.match(configError(() => resolve({ config: { lithop: {} } as never })).message, /unknown key "lithop": did you mean "lithops"\?/);
  });

  it("does not echo a secret that has the wrong type", () => {
    const { message } = configError(() => resolve({ config: { lithops: { signing_key: "short-secret" } } }));
    assert.match(message, /lithops\.signing_key/);
    assert.ok(!message.includes("short-secret"), message);
  });

  it("takes options over the file over the defaults", () => {
    const path = file(
      "precedence.yaml",
      [
        "lithops:",
        "  log_level: DEBUG",
        "azure_containers:",
        "  runtime_memory: 1024",
        "  runtime: myacct/img:1",
        "local:",
        "  max_workers: 3",
        "  runtime_timeout: 30",
        "",
      ].join("\n"),
    );
    const defaults = resolve({ config: {} });
    assert.equal(defaults.backend, "local");
    assert.equal(defaults.runtime, "default");
    assert.equal(defaults.runtimeMemory, 512);
    assert.equal(defaults.runtimeTimeout, 600);
    assert.equal(defaults.workerProcesses, 1);
    assert.equal(defaults.logLevel, "INFO");

    const fromFile = resolve({ config: path });
    assert.equal(fromFile.runtimeMemory, 1024);
    assert.equal(fromFile.runtime, "myacct/img:1");
    assert.equal(fromFile.maxWorkers, 3);
    assert.equal(fromFile.runtimeTimeout, 30);
    assert.equal(fromFile.logLevel, "DEBUG");

    const fromOptions = resolve({ config: path, runtimeMemory: 2048, runtime: "default", maxWorkers: 5, runtimeTimeout: 10, logLevel: "ERROR" });
    assert.equal(fromOptions.runtimeMemory, 2048);
    assert.equal(fromOptions.runtime, "default");
    assert.equal(fromOptions.maxWorkers, 5);
    assert.equal(fromOptions.runtimeTimeout, 10);
    assert.equal(fromOptions.logLevel, "ERROR");
  });

  it("picks up the file named by LITHOPS_CONFIG_FILE", () => {
    const path = file("from-env.yaml", "azure_containers:\n  runtime_memory: 3072\n");
    assert.equal(resolve({}, { LITHOPS_CONFIG_FILE: path }).runtimeMemory, 3072);
    const broken = file("from-env-broken.yaml", "azure_containers: [\n");
    assert.ok(configError(() => resolve({}, { LITHOPS_CONFIG_FILE: broken })).message.includes(broken));
  });

  it("requires a storage account for azure_containers, saying which keys to set", () => {
    const { message } = configError(() => resolve({ backend: "azure_containers", config: {} }));
    assert.match(message, /azure_containers needs azure_storage\.storage_account_name \(or connection_string\)/);
    const path = file("azure.yaml", "lithops:\n  backend: azure_containers\nazure_storage:\n  storage_account_name: myaccount\n");
    const config = resolve({ config: path });
    assert.equal(config.backend, "azure_containers");
    assert.equal(config.storage.accountName, "myaccount");
  });

  it("rejects worker counts below one, naming the value", () => {
    assert.match(configError(() => resolve({ maxWorkers: 0, config: {} })).message, /maxWorkers: 0/);
    assert.match(configError(() => resolve({ workerProcesses: 1.5, config: {} })).message, /workerProcesses: 1\.5/);
  });
});
