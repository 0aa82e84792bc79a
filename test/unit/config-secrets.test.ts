import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { describe, it, type TestContext } from "node:test";
import { inspect } from "node:util";
import { validateConfigFile } from "../../client/config-file.ts";
import { type ExecutorOptions, resolveConfig } from "../../client/config.ts";
import { ConfigError } from "../../client/errors.ts";
import { FunctionExecutor } from "../../client/index.ts";
import { suiteFolder } from "../support/temp-folder.ts";

/**
 * Secrets stay secret on the client: no printout of the executor's config and no error
 * message holds a key; a config file may not send jobs to a host outside Azure Storage and
 * loopback unless the user says so; a config file others can read is warned about.
 */

const SIGNING_KEY = "signing-key-SECRET-0123456789abcdef";
const ACCOUNT_KEY = "YWNjb3VudC1rZXktU0VDUkVULWZvci10ZXN0cw==";
const CONNECTION_KEY = "Y29ubmVjdGlvbi1TRUNSRVQta2V5LWZvci10ZXN0cw==";
const DOCKER_PASSWORD = "dckr_pat_SECRET_not_real";
const SAS_SIGNATURE = "sig=SECRETSASSIGNATURE";
const SECRETS = [SIGNING_KEY, ACCOUNT_KEY, CONNECTION_KEY, DOCKER_PASSWORD, "SECRETSASSIGNATURE"];

const azureConfig = {
  lithops: { backend: "azure_containers", signing_key: SIGNING_KEY },
  azure_storage: { storage_account_name: "acct1", storage_account_key: ACCOUNT_KEY },
  azure_containers: { docker_password: DOCKER_PASSWORD },
  local: {
    connection_string: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${CONNECTION_KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1`,
  },
} as const;

// No environment: neither LITHOPS_CONFIG_FILE nor a worker's variables apply.
const resolve = (options: ExecutorOptions) => resolveConfig({ logLevel: "ERROR", ...options }, {});

function assertNoSecret(text: string, what: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${what} shows a secret: ${text}`);
}

/** What `run` writes to stdout and stderr (console.log, the client's log lines). */
function outputOf(t: TestContext, run: () => void): string {
  let text = "";
  const capture = (chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  };
  t.mock.method(process.stdout, "write", capture);
  t.mock.method(process.stderr, "write", capture);
  try {
    run();
  } finally {
    t.mock.restoreAll();
  }
  return text;
}

/** The message of the ConfigError `run` throws. */
function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("no error was thrown");
}

describe("secrets in printouts", () => {
  it("console.log, util.inspect and JSON.stringify of fexec.config show [redacted] for every key", async (t) => {
    const fexec = new FunctionExecutor({ config: azureConfig, logLevel: "ERROR" });
    try {
      const { config } = fexec;
      // The values stay readable by code.
      assert.equal(config.signingKey, SIGNING_KEY);
      assert.equal(config.storage.accountKey, ACCOUNT_KEY);
      assert.ok(config.local.connectionString?.includes(CONNECTION_KEY));

      const logged = outputOf(t, () => {
        console.log(config);
        console.log(config.storage);
        console.log("%o %j", config, config.local);
      });
      assertNoSecret(logged, "console.log");
      assert.match(logged, /signingKey: '\[redacted\]'/);
      assert.match(logged, /accountKey: '\[redacted\]'/);
      for (const [what, text] of [
        ["inspect", inspect(config, { depth: 5 })],
        ["JSON.stringify", JSON.stringify(config)],
        ["JSON.stringify of storage", JSON.stringify(config.storage)],
        ["JSON.stringify of local", JSON.stringify({ local: config.local })],
      ]) {
        assertNoSecret(text, what);
        assert.match(text, /\[redacted\]/, what);
      }
      assert.equal(JSON.parse(JSON.stringify(config)).storage.accountName, "acct1", "what is not secret is shown");
    } finally {
      await fexec.close();
    }
  });

  it("resolving a config with secrets logs none of them", (t) => {
    const logged = outputOf(t, () => resolveConfig({ config: azureConfig, logLevel: "DEBUG" }, {}));
    assert.match(logged, /docker_password is a deployment setting/);
    assertNoSecret(logged, "the client's log lines");
  });

  it("error messages about a secret key name it, never its value", () => {
    const cases: Record<string, unknown>[] = [
      { lithops: { signing_key: SIGNING_KEY.slice(0, 10) } },
      { azure_storage: { storage_account_key: { key: ACCOUNT_KEY } } },
      { azure_containers: { docker_password: [DOCKER_PASSWORD] } },
      { azure_storage: { connection_string: `AccountName=a;AccountKey=${CONNECTION_KEY};BlobEndpoint=https://collector.example.com/` } },
      { azure_storage: { storage_account_name: "acct1", blob_endpoint: `https://collector.example.com/jobs?sv=2024&${SAS_SIGNATURE}` } },
    ];
    for (const config of cases) {
      const message = configError(() => validateConfigFile(config));
      assertNoSecret(message, "a config error");
      assert.match(message, /signing_key|storage_account_key|docker_password|connection_string|blob_endpoint/);
    }
    assert.match(
      configError(() => validateConfigFile(cases[0])),
      /lithops\.signing_key: the value \(a secret, not shown\) is not valid: use text of at least 16 characters/,
    );
  });
});

describe("storage endpoints", () => {
  it("takes https endpoints on Azure Storage's domains and the emulator on loopback", () => {
    for (const [blob, queue] of [
      ["https://acct1.blob.core.windows.net", "https://acct1.queue.core.windows.net/"],
      ["http://127.0.0.1:10000/devstoreaccount1", "http://localhost:10001/devstoreaccount1"],
      ["https://acct1.blob.core.usgovcloudapi.net", "https://acct1.queue.core.chinacloudapi.cn"],
    ]) {
      const config = resolve({
        config: { lithops: { backend: "azure_containers" }, azure_storage: { storage_account_name: "acct1", blob_endpoint: blob, queue_endpoint: queue } },
      });
      assert.equal(config.storage.blobEndpoint, blob);
    }
  });

  it("refuses any other host, plain http to Azure, and a connection string naming one, saying how to opt in", () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [
        { azure_storage: { blob_endpoint: "https://collector.example.com" } },
        /azure_storage\.blob_endpoint: endpoint https:\/\/collector\.example\.com is neither/,
      ],
      [
        { azure_storage: { queue_endpoint: "http://acct1.queue.core.windows.net" } },
        /azure_storage\.queue_endpoint: endpoint http:\/\/acct1\.queue\.core\.windows\.net is neither/,
      ],
      [
        { azure_storage: { connection_string: "AccountName=a;AccountKey=k;QueueEndpoint=https://10.0.0.5/" } },
        /azure_storage\.connection_string: its endpoint https:\/\/10\.0\.0\.5 is neither/,
      ],
      [
        { local: { connection_string: "AccountName=a;AccountKey=k;BlobEndpoint=http://192.168.1.9:10000/a" } },
        /local\.connection_string: its endpoint http:\/\/192\.168\.1\.9:10000/,
      ],
    ];
    for (const [config, expected] of refused) {
      const message = configError(() => validateConfigFile(config));
      assert.match(message, expected);
      assert.match(message, /set azure_storage\.allow_any_endpoint: true/);
    }
  });

  it("takes any endpoint once azure_storage.allow_any_endpoint is true", () => {
    const file = validateConfigFile({ azure_storage: { blob_endpoint: "https://proxy.example.com", allow_any_endpoint: true } });
    assert.equal(file.azure_storage?.blob_endpoint, "https://proxy.example.com");
  });
});

describe("config file warnings", () => {
  const { file } = suiteFolder("lithops-config-secrets-test-");

  it("warns once about a config file others can read, not about one only its owner can", (t) => {
    const shared = file("shared.yaml", "lithops:\n  log_level: warning\n");
    chmodSync(shared, 0o644);
    const own = file("own.yaml", "lithops:\n  log_level: warning\n");
    chmodSync(own, 0o600);
    const logged = outputOf(t, () => {
      resolveConfig({ config: shared }, {});
      resolveConfig({ config: shared }, {});
      resolveConfig({ config: own }, {});
    });
    const warnings = logged.split("\n").filter((line) => line.includes("is readable by other users"));
    assert.equal(warnings.length, 1, logged);
    assert.match(
      warnings[0],
      /^lithops-aca WARNING \[config\] config file .*shared\.yaml is readable by other users \(mode 644\) and may hold keys: chmod 600 /,
    );
  });

  it("says that backend localhost keeps jobs in the emulator, not in the azure_storage account", (t) => {
    const config = { lithops: { backend: "localhost" }, azure_storage: { storage_account_name: "acct7" } } as const;
    const logged = outputOf(t, () => assert.equal(resolveConfig({ config }, {}).backend, "local"));
    assert.match(
      logged,
      /WARNING \[config\] backend local keeps jobs and Storage objects in the local emulator \(data folder .*\), not in storage account acct7/,
    );
    const quiet = outputOf(t, () => resolveConfig({ config: { lithops: { backend: "localhost" } } }, {}));
    assert.doesNotMatch(quiet, /storage account/);
  });
});
