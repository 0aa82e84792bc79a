import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALLOWED_MEMORY_MB } from "../../runtime-model/memory.ts";
import { runtimeQueues, runtimeResourceName } from "../../azure/runtime-name.ts";
import { NODE_MAJOR, PACKAGE_VERSION } from "../../protocol/version.ts";
import { DEFAULT_DOCKERFILE, parseStackConfig } from "../../components/stack-config.ts";
import { StackConfigError } from "../../components/errors.ts";
import { programError } from "../support/pulumi-harness.ts";
import { REPO_ROOT } from "../support/package-paths.ts";

const projectRoot = REPO_ROOT;
const options = { namespace: "lithops-aca", projectRoot, dockerHubTokenSet: false };
const IMAGING = "runtimes/examples/imaging/Dockerfile";

/** The message of the StackConfigError a config raises. */
function problem(raw: Record<string, unknown>, opts = options): string {
  try {
    parseStackConfig(raw, opts);
  } catch (error) {
    assert.ok(error instanceof StackConfigError, `expected a StackConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe("stack config: defaults and resolution", () => {
  it("an empty stack gets the default runtime at 512 MB, built for this Node major", () => {
    const config = parseStackConfig({}, options);
    assert.equal(config.runtimes.length, 1);
    const [runtime] = config.runtimes;
    assert.equal(runtime!.name, "default");
    assert.equal(runtime!.memory, 512);
    assert.equal(runtime!.cpu, 0.25);
    assert.equal(runtime!.timeout, 600);
    assert.equal(runtime!.workerProcesses, 1);
    assert.deepEqual(runtime!.source, {
      kind: "build",
      dockerfile: DEFAULT_DOCKERFILE,
      repository: `lithops-aca-default-node${NODE_MAJOR}`,
      tag: PACKAGE_VERSION,
    });
    assert.deepEqual(config.registry, { type: "acr", sku: "Basic", untaggedRetentionDays: 7 });
    assert.equal(config.environment.coreQuota, 100);
    assert.equal(config.storage.protect, false);
    assert.deepEqual(config.tags, {});
    assert.equal(runtime!.terminationGracePeriodSeconds, 600);
    assert.equal(config.storage.jobDataRetentionDays, 7);
  });

  it("derives names with the protocol's functions, so client and worker agree", () => {
    const config = parseStackConfig({ runtimes: [{ name: "myacct/imaging:01", dockerfile: IMAGING, memory: 2048 }] }, options);
    const runtime = config.runtimes[0]!;
    assert.equal(runtime.resourceName, runtimeResourceName("myacct/imaging:01", 2048));
    assert.deepEqual({ queue: runtime.queue, poisonQueue: runtime.poisonQueue }, runtimeQueues("myacct/imaging:01", 2048));
    assert.deepEqual(runtime.source, { kind: "build", dockerfile: IMAGING, repository: "myacct/imaging", tag: "01" });
    assert.equal(runtime.cpu, 1);
  });

  it("a runtime named by an image reference, with no dockerfile, is that prebuilt image", () => {
    const config = parseStackConfig({ runtimes: [{ name: "lithopscloud/ca-node20:01", memory: 1024 }] }, options);
    assert.deepEqual(config.runtimes[0]!.source, { kind: "prebuilt", image: "lithopscloud/ca-node20:01" });
  });

  it("the same image at two sizes is two runtimes", () => {
    const config = parseStackConfig({ runtimes: [{ name: "default" }, { name: "default", memory: 1024 }] }, options);
    assert.deepEqual(
      config.runtimes.map((r) => r.resourceName),
      ["lithops-default-512", "lithops-default-1024"],
    );
  });
});

describe("stack config: each invalid value names its key", () => {
  it("memory outside the table: the key and every allowed value", () => {
    const message = problem({ runtimes: [{ name: "default" }, { name: "imaging", dockerfile: IMAGING, memory: 1000 }] });
    assert.match(message, /lithops-aca:runtimes\[1\]\.memory: 1000 MB/);
    for (const mb of ALLOWED_MEMORY_MB) assert.ok(message.includes(String(mb)), `allowed value ${mb} missing from: ${message}`);
  });

  it("memory that is not a number", () => {
    assert.match(
      problem({ runtimes: [{ name: "default", memory: "2GB" }] }),
      /lithops-aca:runtimes\[0\]\.memory: "2GB" is not valid: use one of 512, 1024, .*8192 \(MB\)/,
    );
  });

  it("a runtime name that is not 'default' or an image reference", () => {
    assert.match(problem({ runtimes: [{ name: "My_Runtime" }] }), /lithops-aca:runtimes\[0\]\.name: "My_Runtime" is not a runtime name/);
  });

  it("an unknown field in a runtime", () => {
    assert.match(problem({ runtimes: [{ name: "default", memroy: 1024 }] }), /lithops-aca:runtimes\[0\]: unknown key "memroy": did you mean "memory"\?/);
  });

  it("an unknown key of the project", () => {
    assert.match(problem({ runtime: [{ name: "default" }] }), /lithops-aca: unknown key "runtime": did you mean "runtimes"\?/);
  });

  it("an unknown field in a nested object", () => {
    assert.match(problem({ storage: { retentionDays: 3 } }), /lithops-aca:storage: unknown key "retentionDays": valid: jobDataRetentionDays, sku, protect/);
  });

  it("numbers out of range say the range", () => {
    const message = problem({ runtimes: [{ name: "default", maxWorkers: 0, workerProcesses: 300, timeout: 0, pollingInterval: 1.5 }] });
    assert.match(message, /lithops-aca:runtimes\[0\]\.maxWorkers: 0 is not valid: use a whole number from 1 to 1000/);
    assert.match(message, /lithops-aca:runtimes\[0\]\.workerProcesses: 300 is not valid: use a whole number from 1 to 256/);
    assert.match(message, /lithops-aca:runtimes\[0\]\.timeout: 0 is not valid: use a whole number from 1 to \d+/);
    assert.match(message, /lithops-aca:runtimes\[0\]\.pollingInterval: 1\.5 is not valid: use a whole number from 1 to 3600/);
    assert.match(
      problem({ storage: { jobDataRetentionDays: 0 } }),
      /lithops-aca:storage\.jobDataRetentionDays: 0 is not valid: use a whole number from 1 to 36500/,
    );
    assert.match(
      problem({ environment: { logRetentionDays: 7 } }),
      /lithops-aca:environment\.logRetentionDays: 7 is not valid: use a whole number from 30 to 730/,
    );
  });

  it("an explicitly empty runtime list is a stack with no runtimes (an absent key is the default runtime)", () => {
    assert.deepEqual(parseStackConfig({ runtimes: [] }, options).runtimes, []);
    assert.equal(parseStackConfig({}, options).runtimes.length, 1);
  });

  it("a runtime list that is not a list", () => {
    assert.match(problem({ runtimes: "default" }), /lithops-aca:runtimes: "default" is not valid: use a list, each item a mapping with the keys name, image/);
  });

  it("image and dockerfile together", () => {
    assert.match(
      problem({ runtimes: [{ name: "x", image: "x/y:1", dockerfile: IMAGING }] }),
      /lithops-aca:runtimes\[0\]: set either `image` .* or `dockerfile` .*, not both/,
    );
  });

  it("an image that is not an image reference", () => {
    assert.match(problem({ runtimes: [{ name: "x", image: "Not An Image" }] }), /lithops-aca:runtimes\[0\]\.image: "Not An Image" is not a runtime name/);
  });

  it("a Dockerfile that does not exist, or lies outside the build context", () => {
    assert.match(
      problem({ runtimes: [{ name: "x", dockerfile: "runtimes/nope/Dockerfile" }] }),
      /lithops-aca:runtimes\[0\]\.dockerfile: runtimes\/nope\/Dockerfile does not exist/,
    );
    assert.match(
      problem({ runtimes: [{ name: "x", dockerfile: "../Dockerfile" }] }),
      /lithops-aca:runtimes\[0\]\.dockerfile: must be a path inside the project/,
    );
    assert.match(
      problem({ runtimes: [{ name: "x", dockerfile: "/etc/Dockerfile" }] }),
      /lithops-aca:runtimes\[0\]\.dockerfile: must be a path inside the project/,
    );
  });

  it("the same runtime twice at the same memory", () => {
    assert.match(
      problem({ runtimes: [{ name: "default" }, { name: "default", memory: 512 }] }),
      /lithops-aca:runtimes\[1\]: runtime default at 512 MB is already defined by lithops-aca:runtimes\[0\]/,
    );
  });

  it("one image name built from two Dockerfiles", () => {
    assert.match(
      problem({
        runtimes: [
          { name: "imaging", dockerfile: IMAGING },
          { name: "imaging", dockerfile: DEFAULT_DOCKERFILE, memory: 1024 },
        ],
      }),
      /lithops-aca:runtimes\[1\]\.dockerfile: builds image imaging:latest, which lithops-aca:runtimes\[0\] builds from/,
    );
  });

  it("8192 MB on an existing environment without a workload profile", () => {
    const environment = { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/managedEnvironments/e" };
    assert.match(
      problem({ environment, runtimes: [{ name: "default", memory: 8192, maxWorkers: 10 }] }),
      /lithops-aca:runtimes\[0\]\.memory: 8192 MB needs a workload-profiles environment; set lithops-aca:environment\.workloadProfileName/,
    );
    const accepted = parseStackConfig(
      { environment: { ...environment, workloadProfileName: "Consumption" }, runtimes: [{ name: "default", memory: 8192, maxWorkers: 10 }] },
      options,
    );
    assert.equal(accepted.runtimes[0]!.cpu, 4);
  });

  it("an environment or registry id of the wrong kind", () => {
    assert.match(
      problem({ environment: { id: "my-env" } }),
      /lithops-aca:environment\.id: "my-env" is not valid: must be a resource id like .*Microsoft\.App\/managedEnvironments/,
    );
    assert.match(
      problem({ registry: { type: "acr", id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/managedEnvironments/e" } }),
      /lithops-aca:registry\.id: .* is not valid: must be a resource id like .*Microsoft\.ContainerRegistry\/registries/,
    );
  });

  it("a registry type that does not exist, and an unknown SKU", () => {
    assert.match(problem({ registry: { type: "gcr" } }), /lithops-aca:registry\.type: "gcr" is not valid: use one of acr, dockerhub/);
    assert.match(problem({ registry: { type: "acr", sku: "Free" } }), /lithops-aca:registry\.sku: "Free" is not valid: use one of Basic, Standard, Premium/);
  });

  it("Docker Hub: a bad user name, and building without the secret token", () => {
    assert.match(
      problem({ registry: { type: "dockerhub", username: "Me!" } }),
      /lithops-aca:registry\.username: "Me!" is not valid: must be a Docker Hub user name/,
    );
    assert.match(
      problem({ registry: { type: "dockerhub", username: "someuser" } }),
      /lithops-aca:dockerHubToken: is required to push to Docker Hub: pulumi config set --secret lithops-aca:dockerHubToken/,
    );
    // Prebuilt images only: nothing is pushed, no token needed.
    parseStackConfig({ registry: { type: "dockerhub", username: "someuser" }, runtimes: [{ name: "someuser/img:1" }] }, options);
    parseStackConfig({ registry: { type: "dockerhub", username: "someuser" } }, { ...options, dockerHubTokenSet: true });
  });

  it("names the bad value next to what is allowed", () => {
    assert.match(
      problem({ runtimes: [{ name: "default", maxWorkers: 5000 }] }),
      /lithops-aca:runtimes\[0\]\.maxWorkers: 5000 is not valid: use a whole number from 1 to 1000/,
    );
    assert.match(problem({ registry: { type: "acr", sku: "Free" } }), /lithops-aca:registry\.sku: "Free" is not valid: use one of Basic, Standard, Premium/);
    assert.match(
      problem({ runtimes: [{ name: "x", dockerfile: "../Dockerfile" }] }),
      /lithops-aca:runtimes\[0\]\.dockerfile: must be a path inside the project .*; got \.\.\/Dockerfile/,
    );
    assert.match(
      problem({ registry: { type: "dockerhub", username: "someuser", namespace: "My-Org" } }),
      /lithops-aca:registry\.namespace: "My-Org" is not valid: must be a Docker Hub namespace \(2-255 lower case letters or digits\)/,
    );
    // Protocol checks quote the value themselves: not twice.
    assert.doesNotMatch(problem({ runtimes: [{ name: "default", memory: 3000 }] }), /got/);
  });

  it("client principals that are not object ids, and a bad resource group name", () => {
    assert.match(problem({ clientPrincipalIds: ["alice@example.com"] }), /lithops-aca:clientPrincipalIds\[0\]: "alice@example\.com" is not valid: use a GUID/);
    assert.match(problem({ resourceGroupName: "my group." }), /lithops-aca:resourceGroupName: "my group\." is not valid: must be 1-90 letters/);
  });

  it("reports every problem at once, one line each", () => {
    const message = problem({ runtimes: [{ name: "default", memory: 100 }, { name: "BAD" }], storage: { sku: "Premium_LRS" } });
    assert.equal(message.split("\n").length, 1 + 3, message);
  });
});

describe("stack config: what Azure would refuse or silently hold back is refused at preview", () => {
  it("a call timeout above a day; a timeout past Container Apps' 600 s grace cap is accepted (the runtime becomes a job)", () => {
    assert.match(problem({ runtimes: [{ name: "default", timeout: 86_401 }] }), /lithops-aca:runtimes\[0\]\.timeout: 86401 .*whole number from 1 to 86400/);
    const config = parseStackConfig(
      { runtimes: [{ name: "default", timeout: 1800 }] },
      { namespace: "lithops-aca", projectRoot: process.cwd(), dockerHubTokenSet: false },
    );
    assert.equal(config.runtimes[0]!.timeout, 1800);
  });

  it("the grace period is the timeout plus a margin, capped at 600 s", () => {
    const config = parseStackConfig(
      {
        runtimes: [
          { name: "default", timeout: 300 },
          { name: "default", memory: 1024, timeout: 590 },
        ],
      },
      options,
    );
    assert.deepEqual(
      config.runtimes.map((r) => r.terminationGracePeriodSeconds),
      [330, 600],
    );
  });

  it("runtimes that could together need more vCPU than the environment's core quota: the numbers and how to raise it", () => {
    const runtimes = [
      { name: "default", memory: 2048, maxWorkers: 200 },
      { name: "imaging", dockerfile: IMAGING, memory: 4096, maxWorkers: 100 },
      { name: "myorg/node-ml:1", memory: 1024 },
    ];
    const message = problem({ runtimes });
    assert.match(
      message,
      /lithops-aca:runtimes: at maxWorkers the runtimes need 415 vCPU \(default 2048 MB: 200 x 1 = 200; imaging 4096 MB: 100 x 2 = 200; myorg\/node-ml:1 1024 MB: 30 x 0\.5 = 15\) but the environment's quota is 100 cores \(lithops-aca:environment\.coreQuota\)/,
    );
    assert.match(message, /request more Managed Environment Consumption Cores .* and set lithops-aca:environment\.coreQuota/);
    // A raised quota, set in the stack, lets the same runtimes through; exactly at the quota is fine.
    parseStackConfig({ runtimes, environment: { coreQuota: 415 } }, options);
    assert.match(problem({ runtimes, environment: { coreQuota: 414 } }), /need 415 vCPU .* quota is 414 cores/);
  });

  it("a prebuilt image on a registry no ACR cache rule can pull from", () => {
    assert.match(
      problem({ runtimes: [{ name: "registry.example.com:5000/team/img:1.0" }] }),
      /lithops-aca:runtimes\[0\]\.name: registry\.example\.com:5000\/team\/img:1\.0: the stack's registry serves prebuilt images through an ACR cache rule, which pulls from docker\.io, mcr\.microsoft\.com, ghcr\.io/,
    );
    // Docker Hub stacks pull prebuilt images as they are: any registry.
    parseStackConfig({ registry: { type: "dockerhub", username: "someuser" }, runtimes: [{ name: "registry.example.com:5000/team/img:1.0" }] }, options);
  });

  it("cost tags Azure would refuse, and a poison alert without the stack's own workspace", () => {
    assert.match(
      problem({ tags: { "cost/center": "42" } }),
      /lithops-aca:tags\.cost\/center: "cost\/center" is not a tag name Azure accepts: 1-512 characters, none of/,
    );
    assert.match(problem({ tags: { team: "x".repeat(300) } }), /lithops-aca:tags\.team: "x{20,}\.\.\. is not valid: must be at most 256 characters/);
    assert.match(
      problem({ poisonAlert: { actionGroupId: "ops" } }),
      /lithops-aca:poisonAlert\.actionGroupId: .* is not valid: must be a resource id like .*Microsoft\.Insights\/actionGroups/,
    );
    const environment = { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/managedEnvironments/e" };
    const actionGroupId = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Insights/actionGroups/ops";
    assert.match(problem({ environment, poisonAlert: { actionGroupId } }), /lithops-aca:poisonAlert: needs the Log Analytics workspace the stack creates/);
  });
});

describe("stack config: the program fails before declaring anything", () => {
  it("a bad memory value stops the program with the key and allowed values", async () => {
    const error = await programError({ config: { runtimes: [{ name: "default" }, { name: "x/y:1", memory: 3000 }] } });
    assert.ok(error instanceof StackConfigError);
    assert.match(error.message, /lithops-aca:runtimes\[1\]\.memory: 3000 MB .* use one of 512, 1024/);
  });

  it("a misspelled top-level key in the stack file is rejected", async () => {
    const error = await programError({ config: { runtime: [{ name: "default" }] } });
    assert.match(error.message, /lithops-aca: unknown key "runtime": did you mean "runtimes"\?/);
  });

  it("a missing azure-native:location names the key", async () => {
    const error = await programError({ noLocation: true });
    assert.match(error.message, /azure-native:location/);
  });
});
