import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { ENV } from "../../protocol/env.ts";
import { containerMemoryString, cpuForMemory } from "../../runtime-model/memory.ts";
import { runtimeQueues, runtimeResourceName } from "../../azure/runtime-name.ts";
import { NODE_MAJOR, PACKAGE_VERSION } from "../../protocol/version.ts";
import { validateConfigFile } from "../../client/config.ts";
import { ACR_TOKEN_USER } from "../../components/registry.ts";
import { ROLES } from "../../components/roles.ts";
import {
  ACR_AUDIENCE_TOKEN,
  ACR_REFRESH_TOKEN,
  armProperties,
  imageBuiltFrom,
  ARM_TOKEN,
  DEPLOYER,
  isSecretValue,
  kindOf,
  named,
  ofType,
  reveal,
  runProgram,
  SUBSCRIPTION,
  TENANT,
  type MockResource,
  type ProgramRun,
} from "../support/pulumi-harness.ts";

const T = {
  group: "azure-native:resources:ResourceGroup",
  account: "azure-native:storage:StorageAccount",
  container: "azure-native:storage:BlobContainer",
  lifecycle: "azure-native:storage:ManagementPolicy",
  queue: "azure-native:storage:Queue",
  workspace: "azure-native:operationalinsights:Workspace",
  environment: "Microsoft.App/managedEnvironments",
  registry: "azure-native:containerregistry:Registry",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  role: "azure-native:authorization:RoleAssignment",
  app: "Microsoft.App/containerApps",
  image: "docker:index/image:Image",
  password: "random:index/randomPassword:RandomPassword",
  purge: "azure-native:containerregistry:Task",
  cacheRule: "azure-native:containerregistry:CacheRule",
};

const IMAGING = "runtimes/examples/imaging/Dockerfile";
const DEV = {
  runtimes: [
    { name: "default", memory: 512, maxWorkers: 10 },
    { name: "imaging", dockerfile: IMAGING, memory: 2048, timeout: 300, maxWorkers: 5, workerProcesses: 2, idlePollMaxMs: 5000 },
  ],
  storage: { jobDataRetentionDays: 2 },
};

/** Azure's naming rules for the resources whose names the stack chooses. */
const RULES = {
  storageAccount: /^[a-z0-9]{3,24}$/,
  registry: /^[a-zA-Z0-9]{5,50}$/,
  containerApp: /^(?=.{2,32}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
  queue: /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
  blobContainer: /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
  environment: /^(?=.{2,60}$)[a-z][a-z0-9-]*[a-z0-9]$/,
  identity: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/,
};

const app = (run: ProgramRun, resourceName: string) => named(run, `${resourceName}-app`);
const props = armProperties;
const envOf = (appResource: MockResource): Record<string, { value?: string; secretRef?: string }> =>
  Object.fromEntries(props(appResource).template.containers[0].env.map((e: { name: string }) => [e.name, e]));
const rolesOf = (run: ProgramRun, principalId: string) => ofType(run, T.role).filter((r) => r.inputs.principalId === principalId);
/** How many resources of each kind in T the run declared. */
const countsByKind = (run: ProgramRun) => Object.fromEntries(Object.entries(T).map(([k, type]) => [k, ofType(run, type).length]));
const roleGuid = (assignment: MockResource) => String(assignment.inputs.roleDefinitionId).split("/").pop();

/** Resources keyed by type and logical name, with their inputs as text, to diff two runs. */
function graph(run: ProgramRun): Map<string, string> {
  return new Map(run.resources.map((r) => [`${kindOf(r)}::${r.name}`, JSON.stringify(r.inputs)]));
}

function diff(a: ProgramRun, b: ProgramRun): { added: string[]; removed: string[]; changed: string[] } {
  const ga = graph(a);
  const gb = graph(b);
  return {
    added: [...gb.keys()].filter((k) => !ga.has(k)).sort(),
    removed: [...ga.keys()].filter((k) => !gb.has(k)).sort(),
    changed: [...ga.keys()].filter((k) => gb.has(k) && ga.get(k) !== gb.get(k)).sort(),
  };
}

describe("pulumi program: the dev stack's resource graph", () => {
  let run: ProgramRun;
  before(async () => {
    run = await runProgram({ config: DEV });
  });

  it("declares each kind of resource the expected number of times", () => {
    const counts = countsByKind(run);
    assert.deepEqual(counts, {
      group: 1,
      account: 1,
      container: 1,
      lifecycle: 1,
      queue: 4,
      workspace: 1,
      environment: 1,
      registry: 1,
      // one per runtime, and the stack's pull identity
      identity: 3,
      // per runtime 3 worker roles + 3 client roles, the client's blob role, the pull identity's AcrPull
      role: 2 * 6 + 1 + 1,
      app: 2,
      image: 2,
      password: 1,
      purge: 1,
      cacheRule: 0,
    });
  });

  it("gives each app the cpu/memory pair of its memory size", () => {
    for (const [name, memory] of [
      ["default", 512],
      ["imaging", 2048],
    ] as const) {
      const resources = props(app(run, runtimeResourceName(name, memory))).template.containers[0].resources;
      assert.deepEqual(resources, { cpu: cpuForMemory(memory), memory: containerMemoryString(memory) });
    }
    assert.deepEqual(props(app(run, "lithops-default-512")).template.containers[0].resources, { cpu: 0.25, memory: "0.5Gi" });
  });

  it("scales each app 0..maxWorkers on its queue, as its identity, queueLength = workerProcesses", () => {
    const account = named(run, "lithops-storage-account").inputs.accountName;
    for (const [name, memory, maxWorkers, workerProcesses] of [
      ["default", 512, 10, 1],
      ["imaging", 2048, 5, 2],
    ] as const) {
      const base = runtimeResourceName(name, memory);
      const identity = named(run, `${base}-identity`);
      const scale = props(app(run, base)).template.scale;
      assert.equal(scale.minReplicas, 0);
      assert.equal(scale.maxReplicas, maxWorkers);
      assert.equal(scale.rules.length, 1);
      assert.deepEqual(scale.rules[0].azureQueue, {
        accountName: account,
        queueName: runtimeQueues(name, memory).queue,
        queueLength: workerProcesses,
        identity: identity.id,
      });
      assert.equal(scale.rules[0].auth, undefined, "no connection-string secret on the rule");
    }
  });

  it("attaches the runtime's identity and the stack's pull identity, and pulls from the stack's ACR with the latter", () => {
    const registry = ofType(run, T.registry)[0]!;
    assert.equal(registry.inputs.adminUserEnabled, false);
    const pull = named(run, "lithops-registry-pull");
    for (const base of ["lithops-default-512", "lithops-imaging-2048"]) {
      const appResource = app(run, base);
      const identity = named(run, `${base}-identity`);
      assert.deepEqual(appResource.inputs.identity, { type: "UserAssigned", userAssignedIdentities: [identity.id, pull.id] });
      const configuration = reveal(props(appResource).configuration);
      assert.deepEqual(configuration.registries, [{ server: `${registry.inputs.registryName}.azurecr.io`, identity: pull.id }]);
    }
  });

  it("grants the worker identity least-privilege roles, each on the narrowest scope", () => {
    const account = named(run, "lithops-storage-account");
    const container = named(run, "lithops-storage-jobs");
    const registry = ofType(run, T.registry)[0]!;
    assert.equal(account.inputs.allowSharedKeyAccess, false);
    for (const base of ["lithops-default-512", "lithops-imaging-2048"]) {
      const roles = rolesOf(run, named(run, `${base}-identity`).state.principalId);
      const byRole = Object.fromEntries(roles.map((r) => [roleGuid(r), r.inputs.scope]));
      assert.deepEqual(byRole, {
        [ROLES.queueDataContributor]: named(run, `${base}-queue`).id,
        [ROLES.queueDataMessageSender]: named(run, `${base}-poison`).id,
        [ROLES.blobDataContributor]: container.id,
      });
      for (const role of [...roles, ...rolesOf(run, named(run, "lithops-registry-pull").state.principalId)]) {
        assert.equal(role.inputs.principalType, "ServicePrincipal");
        assert.match(
          role.inputs.roleDefinitionId,
          new RegExp(`^/subscriptions/${SUBSCRIPTION}/providers/Microsoft\\.Authorization/roleDefinitions/[0-9a-f-]{36}$`),
        );
      }
    }
    // Pulling is the stack's pull identity's only right.
    const pulls = rolesOf(run, named(run, "lithops-registry-pull").state.principalId);
    assert.deepEqual(
      pulls.map((r) => [roleGuid(r), r.inputs.scope]),
      [[ROLES.acrPull, registry.id]],
    );
  });

  it("gives whoever runs the client (the deployer by default) send and read on queues, data access on the container", () => {
    const roles = rolesOf(run, DEPLOYER);
    const scopes = roles.map((r) => `${roleGuid(r)} ${r.inputs.scope}`).sort();
    const expected = [`${ROLES.blobDataContributor} ${named(run, "lithops-storage-jobs").id}`];
    for (const base of ["lithops-default-512", "lithops-imaging-2048"]) {
      expected.push(`${ROLES.queueDataMessageSender} ${named(run, `${base}-queue`).id}`);
      expected.push(`${ROLES.queueDataReader} ${named(run, `${base}-queue`).id}`);
      expected.push(`${ROLES.queueDataReader} ${named(run, `${base}-poison`).id}`);
    }
    assert.deepEqual(scopes, expected.sort());
  });

  it("creates a queue and a poison queue per runtime with the protocol's names", () => {
    const names = ofType(run, T.queue)
      .map((q) => q.inputs.queueName)
      .sort();
    const expected = [runtimeQueues("default", 512), runtimeQueues("imaging", 2048)].flatMap((q) => [q.queue, q.poisonQueue]).sort();
    assert.deepEqual(names, expected);
  });

  it("gives the worker exactly the protocol's env vars: identity, no key or connection string", () => {
    const account = named(run, "lithops-storage-account").inputs.accountName;
    const identity = named(run, "lithops-imaging-2048-identity");
    const env = envOf(app(run, "lithops-imaging-2048"));
    assert.deepEqual(env[ENV.backend], { name: ENV.backend, value: "azure_containers" });
    assert.equal(env[ENV.storageAccount]!.value, account);
    assert.equal(env[ENV.blobEndpoint]!.value, `https://${account}.blob.core.windows.net/`);
    assert.equal(env[ENV.queueEndpoint]!.value, `https://${account}.queue.core.windows.net/`);
    assert.equal(env[ENV.container]!.value, "lithops-jobs");
    assert.equal(env[ENV.queue]!.value, "lithops-imaging-2048");
    assert.equal(env[ENV.poisonQueue]!.value, "lithops-imaging-2048-poison");
    assert.equal(env[ENV.runtimeName]!.value, "imaging");
    assert.equal(env[ENV.runtimeMemory]!.value, "2048");
    assert.equal(env[ENV.runtimeTimeout]!.value, "300");
    assert.equal(env[ENV.workerProcesses]!.value, "2");
    assert.equal(env[ENV.idlePollMaxMs]!.value, "5000");
    assert.equal(envOf(app(run, "lithops-default-512"))[ENV.idlePollMaxMs]!.value, "1000", "the worker's own default when not configured");
    assert.equal(env[ENV.azureClientId]!.value, identity.state.clientId);
    assert.notEqual(identity.state.clientId, identity.state.principalId);
    assert.deepEqual(env[ENV.signingKey], { name: ENV.signingKey, secretRef: "signing-key" });
    assert.equal(env[ENV.connectionString], undefined);
    for (const name of Object.keys(env)) assert.ok(Object.values(ENV).includes(name as never), `${name} is not in protocol/env.ts`);
  });

  it("keeps secrets secret: the signing key and the registry push password; no workspace key exists", () => {
    const appResource = app(run, "lithops-default-512");
    assert.ok(isSecretValue(appResource.inputs.properties), "the app configuration (holding the signing key) is secret");
    const secrets = reveal(props(appResource).configuration).secrets;
    const signingKey = named(run, "lithops-signing-key");
    assert.equal(signingKey.inputs.special, false);
    assert.ok(signingKey.inputs.length >= 32);
    assert.equal(secrets.length, 1);
    assert.equal(secrets[0].name, "signing-key");
    // No workspace key at all: the environment's logs go to the workspace through a diagnostic setting.
    assert.ok(!JSON.stringify(ofType(run, T.environment)[0]!.inputs).includes("sharedKey"));
    for (const image of ofType(run, T.image)) {
      assert.ok(isSecretValue(image.inputs.registry), "the push credentials are secret");
      assert.deepEqual(reveal(image.inputs.registry), {
        server: `${ofType(run, T.registry)[0]!.inputs.registryName}.azurecr.io`,
        username: ACR_TOKEN_USER,
        password: ACR_REFRESH_TOKEN,
      });
    }
  });

  it("pushes with a token exchanged from the deployer's Entra ID token for ACR's audience (no admin user, no ARM token)", () => {
    assert.equal(run.fetches.length, 1);
    const [exchange] = run.fetches;
    const server = `${ofType(run, T.registry)[0]!.inputs.registryName}.azurecr.io`;
    assert.equal(exchange!.url, `https://${server}/oauth2/exchange`);
    const body = new URLSearchParams(exchange!.body);
    assert.equal(body.get("grant_type"), "access_token");
    assert.equal(body.get("service"), server);
    assert.equal(body.get("tenant"), TENANT);
    assert.equal(body.get("access_token"), ACR_AUDIENCE_TOKEN);
    const tokens = run.invokes.filter((i) => i.token === "azure-native:authorization:getClientToken");
    assert.deepEqual(
      tokens.map((i) => i.inputs.endpoint),
      ["https://containerregistry.azure.net"],
    );
  });

  it("builds each image for linux/amd64 with this machine's Node major, and runs the pushed digest", () => {
    const images = ofType(run, T.image);
    assert.equal(images.length, 2);
    const defaultImage = imageBuiltFrom(run, "runtimes/default/Dockerfile");
    assert.notEqual(imageBuiltFrom(run, IMAGING), defaultImage);
    for (const image of images) {
      assert.equal(image.inputs.build.platform, "linux/amd64");
      // Built from a staged context of its own (the Dockerfile's folder and the worker), never the project root.
      assert.match(image.inputs.build.context, /[/\\]\.lithops-aca[/\\]build[/\\]lithops-image-[a-z0-9-]+$/);
      assert.equal(image.inputs.build.args.NODE_MAJOR, String(NODE_MAJOR));
      assert.match(image.inputs.build.args.LITHOPS_CONTEXT_DIGEST, /^[0-9a-f]{64}$/);
      // The pushed image carries its layer cache, so a runner without local layers reuses them.
      assert.equal(image.inputs.build.args.BUILDKIT_INLINE_CACHE, "1");
      assert.deepEqual(image.inputs.build.cacheFrom, { images: [image.inputs.imageName] });
    }
    assert.match(defaultImage.inputs.imageName, new RegExp(`/lithops-aca-default-node${NODE_MAJOR}:${PACKAGE_VERSION.replace(/\./g, "\\.")}$`));
    // The app gets the digest (the mock's repoDigest), not the tag.
    assert.equal(props(app(run, "lithops-default-512")).template.containers[0].image, defaultImage.id);
    assert.match(defaultImage.id, /@sha256:[0-9a-f]{64}$/);
  });

  it("tags runtimes as Lithops does, and caps the grace period at Azure's 600 s", () => {
    const imaging = app(run, "lithops-imaging-2048");
    assert.deepEqual(imaging.inputs.tags, {
      lithops_stack: "dev",
      type: "lithops-runtime",
      runtime_name: "imaging",
      runtime_memory: "2048",
      lithops_version: PACKAGE_VERSION,
    });
    assert.equal(props(imaging).template.terminationGracePeriodSeconds, 330);
    assert.equal(props(app(run, "lithops-default-512")).template.terminationGracePeriodSeconds, 600);
  });

  it("secures the storage account and expires old job data", () => {
    const account = named(run, "lithops-storage-account").inputs;
    assert.equal(account.kind, "StorageV2");
    assert.equal(account.minimumTlsVersion, "TLS1_2");
    assert.equal(account.allowBlobPublicAccess, false);
    assert.equal(account.enableHttpsTrafficOnly, true);
    assert.equal(named(run, "lithops-storage-jobs").inputs.publicAccess, "None");
    const rule = named(run, "lithops-storage-lifecycle").inputs.policy.rules[0];
    assert.deepEqual(rule.definition.filters.prefixMatch, ["lithops-jobs/lithops.jobs/", "lithops-jobs/lithops.runtimes/"]);
    assert.equal(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan, 2);
  });

  it("creates a workload-profiles environment logging to Log Analytics through a diagnostic setting, and places apps on its Consumption profile", () => {
    const environment = ofType(run, T.environment)[0]!;
    assert.deepEqual(reveal(environment.inputs.properties).workloadProfiles, [{ name: "Consumption", workloadProfileType: "Consumption" }]);
    assert.deepEqual(reveal(environment.inputs.properties).appLogsConfiguration, { destination: "azure-monitor" });
    const [setting, ...more] = ofType(run, "azure-native:monitor:DiagnosticSetting");
    assert.equal(more.length, 0);
    assert.equal(setting!.inputs.resourceUri, environment.id);
    assert.equal(setting!.inputs.workspaceId, ofType(run, T.workspace)[0]!.id);
    assert.equal(setting!.inputs.logAnalyticsDestinationType, "Dedicated", "resource-specific tables such as ContainerAppConsoleLogs");
    assert.deepEqual(
      setting!.inputs.logs.map((l: { category: string }) => l.category),
      ["ContainerAppConsoleLogs", "ContainerAppSystemLogs"],
    );
    for (const a of ofType(run, T.app)) {
      assert.equal(props(a).environmentId, environment.id);
      assert.equal(props(a).workloadProfileName, "Consumption");
    }
  });

  it("keeps every name it chooses within Azure's rules", () => {
    assert.match(named(run, "lithops-storage-account").inputs.accountName, RULES.storageAccount);
    assert.match(ofType(run, T.registry)[0]!.inputs.registryName, RULES.registry);
    assert.match(named(run, "lithops-storage-jobs").inputs.containerName, RULES.blobContainer);
    assert.match(ofType(run, T.environment)[0]!.inputs.resourceName, RULES.environment);
    for (const a of ofType(run, T.app)) assert.match(a.inputs.resourceName, RULES.containerApp);
    for (const q of ofType(run, T.queue)) assert.match(q.inputs.queueName, RULES.queue);
    for (const i of ofType(run, T.identity)) assert.match(i.inputs.resourceName, RULES.identity);
  });

  it("outputs per runtime name, image, memory, queues, app and a logs command, the storage names and the workspace", () => {
    const imageOf = (dockerfile: string) => imageBuiltFrom(run, dockerfile).id;
    const group = ofType(run, T.group)[0]!.id.split("/").pop();
    const logs = (appName: string) => `az containerapp logs show --resource-group ${group} --name ${appName} --follow`;
    assert.deepEqual(run.outputs.runtimes, [
      {
        name: "default",
        image: imageOf("runtimes/default/Dockerfile"),
        memory: 512,
        kind: "app",
        queue: "lithops-default-512",
        poisonQueue: "lithops-default-512-poison",
        appName: "lithops-default-512",
        logsCommand: logs("lithops-default-512"),
      },
      {
        name: "imaging",
        image: imageOf(IMAGING),
        memory: 2048,
        kind: "app",
        queue: "lithops-imaging-2048",
        poisonQueue: "lithops-imaging-2048-poison",
        appName: "lithops-imaging-2048",
        logsCommand: logs("lithops-imaging-2048"),
      },
    ]);
    assert.equal(run.outputs.storageAccountName, named(run, "lithops-storage-account").inputs.accountName);
    assert.equal(run.outputs.containerName, "lithops-jobs");
    assert.equal(run.outputs.logAnalyticsWorkspaceId, ofType(run, T.workspace)[0]!.id);
  });

  it("outputs a Lithops-style client config as a secret, with the stack's signing key", () => {
    assert.equal(run.secretOutputs.clientConfig, true);
    const config = parse(run.outputs.clientConfig as string);
    // The client's own loader (strict: unknown keys are errors) accepts it.
    validateConfigFile(config, "clientConfig output");
    const account = named(run, "lithops-storage-account").inputs.accountName;
    assert.deepEqual(config.lithops, { backend: "azure_containers", storage: "azure_storage", signing_key: config.lithops.signing_key });
    assert.match(config.lithops.signing_key, /^generated-/);
    assert.deepEqual(config.azure_storage, {
      storage_account_name: account,
      storage_bucket: "lithops-jobs",
      blob_endpoint: `https://${account}.blob.core.windows.net/`,
      queue_endpoint: `https://${account}.queue.core.windows.net/`,
    });
    assert.deepEqual(config.azure_containers, {
      resource_group: ofType(run, T.group)[0]!.id.split("/").pop(),
      region: "westeurope",
      environment_id: ofType(run, T.environment)[0]!.id,
      runtime: "default",
      runtime_memory: 512,
      runtime_timeout: 600,
      max_workers: 10,
      worker_processes: 1,
      runtimes: [
        { name: "default", memory: 512, queue: "lithops-default-512", poison_queue: "lithops-default-512-poison", app: "lithops-default-512" },
        { name: "imaging", memory: 2048, queue: "lithops-imaging-2048", poison_queue: "lithops-imaging-2048-poison", app: "lithops-imaging-2048" },
      ],
    });
  });

  it("puts no secret in any plain output", () => {
    const signingKey = parse(run.outputs.clientConfig as string).lithops.signing_key as string;
    const plain = JSON.stringify(Object.fromEntries(Object.entries(run.outputs).filter(([k]) => !run.secretOutputs[k])));
    for (const secret of [signingKey, "workspace-shared-key", ACR_REFRESH_TOKEN, ARM_TOKEN, "AccountKey="]) {
      assert.ok(!plain.includes(secret), `a plain output contains ${secret}`);
    }
    assert.deepEqual(
      Object.keys(run.secretOutputs).filter((k) => run.secretOutputs[k]),
      ["clientConfig"],
    );
  });
});

describe("pulumi program: changes map to the runtime they touch", () => {
  let dev: ProgramRun;
  before(async () => {
    dev = await runProgram({ config: DEV });
  });

  it("a second run of the same config declares the same graph (nothing changes)", async () => {
    // A fresh run: the harness would otherwise hand back its copy of the first.
    const again = await runProgram({ config: DEV }, { fresh: true });
    assert.deepEqual(diff(dev, again), { added: [], removed: [], changed: [] });
  });

  it("changing a runtime's memory replaces only that runtime's resources, not its image", async () => {
    const changed = await runProgram({
      config: { ...DEV, runtimes: [DEV.runtimes[0], { ...DEV.runtimes[1], memory: 4096 }] },
    });
    const d = diff(dev, changed);
    const all = [...d.added, ...d.removed, ...d.changed];
    assert.ok(d.added.length > 0 && d.removed.length === d.added.length, JSON.stringify(d));
    for (const key of all) assert.match(key, /::lithops-imaging-(2048|4096)/, `${key} changed, but it is not the imaging runtime's`);
    assert.ok(d.added.includes(`${T.app}::lithops-imaging-4096-app`));
    assert.ok(d.removed.includes(`${T.queue}::lithops-imaging-2048-queue`));
    const newApp = app(changed, "lithops-imaging-4096");
    assert.deepEqual(props(newApp).template.containers[0].resources, { cpu: 2, memory: "4Gi" });
    // The image does not depend on memory: same build, same digest.
    assert.equal(props(newApp).template.containers[0].image, props(app(dev, "lithops-imaging-2048")).template.containers[0].image);
  });

  it("changing what a runtime is built from changes exactly its image and its app", async () => {
    const changed = await runProgram({
      config: { ...DEV, runtimes: [DEV.runtimes[0], { ...DEV.runtimes[1], dockerfile: "runtimes/default/Dockerfile" }] },
    });
    const d = diff(dev, changed);
    assert.deepEqual(d, {
      added: [],
      removed: [],
      changed: [`${T.app}::lithops-imaging-2048-app`, `${T.image}::lithops-image-imaging-latest-build`].sort(),
    });
    assert.notEqual(
      props(app(changed, "lithops-imaging-2048")).template.containers[0].image,
      props(app(dev, "lithops-imaging-2048")).template.containers[0].image,
      "a new digest, so a new revision",
    );
  });

  it("changing a prebuilt image's tag changes exactly that runtime's app: same cache rule, new reference", async () => {
    const withPrebuilt = (tag: string) => ({ ...DEV, runtimes: [...DEV.runtimes, { name: "myorg/node-ml:1", image: `myorg/node-ml:${tag}`, memory: 1024 }] });
    const before01 = await runProgram({ config: withPrebuilt("01") });
    const after02 = await runProgram({ config: withPrebuilt("02") });
    const d = diff(before01, after02);
    const base = runtimeResourceName("myorg/node-ml:1", 1024);
    assert.deepEqual(d.changed, [`${T.app}::${base}-app`]);
    // Only the (childless) image component is renamed.
    assert.deepEqual(d.added, ["lithops-aca:index:RuntimeImage::lithops-image-myorg-node-ml-02"]);
    assert.deepEqual(d.removed, ["lithops-aca:index:RuntimeImage::lithops-image-myorg-node-ml-01"]);
    const server = `${ofType(after02, T.registry)[0]!.inputs.registryName}.azurecr.io`;
    assert.equal(props(app(after02, base)).template.containers[0].image, `${server}/cache/docker.io/myorg/node-ml:02`);
  });

  it("removing a runtime removes its queues, identity, roles, app and image, and nothing else", async () => {
    const removed = await runProgram({ config: { ...DEV, runtimes: [DEV.runtimes[0]] } });
    const d = diff(dev, removed);
    assert.deepEqual(d.added, []);
    assert.deepEqual(d.changed, []);
    for (const key of d.removed) assert.match(key, /::(lithops-imaging-2048|lithops-image-imaging-latest)/, key);
    for (const expected of [
      `${T.queue}::lithops-imaging-2048-queue`,
      `${T.queue}::lithops-imaging-2048-poison`,
      `${T.identity}::lithops-imaging-2048-identity`,
      `${T.app}::lithops-imaging-2048-app`,
      `${T.image}::lithops-image-imaging-latest-build`,
    ]) {
      assert.ok(d.removed.includes(expected), `${expected} should be removed`);
    }
    assert.equal(d.removed.filter((k) => k.startsWith(T.role)).length, 6, "its 3 worker and 3 client roles; the stack's pull grant stays");
    assert.equal(parse(removed.outputs.clientConfig as string).azure_containers.runtimes.length, 1);
  });
});

describe("pulumi program: a stack with no runtimes (`lithops-aca:runtimes: []`, what `runtime delete all` leaves)", () => {
  let empty: ProgramRun;
  before(async () => {
    empty = await runProgram({ config: { ...DEV, runtimes: [] } });
  });

  it("keeps storage, environment and signing key; declares no registry, image, app, queue or identity", () => {
    const counts = countsByKind(empty);
    assert.deepEqual(counts, {
      group: 1,
      account: 1,
      container: 1,
      lifecycle: 1,
      queue: 0,
      workspace: 1,
      environment: 1,
      registry: 0,
      identity: 0,
      // the client's blob role on the job container
      role: 1,
      app: 0,
      image: 0,
      password: 1,
      purge: 0,
      cacheRule: 0,
    });
    assert.deepEqual(empty.outputs.runtimes, []);
    assert.equal(empty.outputs.registryPrefix, undefined);
    assert.equal(empty.outputs.storageAccountName, named(empty, "lithops-storage-account").inputs.accountName);
  });

  it("going from the dev stack to no runtimes only removes: storage, environment and signing key are unchanged", async () => {
    const dev = await runProgram({ config: DEV });
    const d = diff(dev, empty);
    assert.deepEqual(d.added, []);
    assert.deepEqual(d.changed, []);
    for (const type of [T.account, T.container, T.lifecycle, T.environment, T.workspace, T.password, T.group]) {
      assert.ok(!d.removed.some((k) => k.startsWith(`${type}::`)), `${type} stays`);
    }
    assert.ok(
      d.removed.some((k) => k.startsWith(`${T.registry}::`)),
      "the registry goes",
    );
    assert.equal(d.removed.filter((k) => k.startsWith(`${T.app}::`)).length, 2);
  });

  it("outputs a client config the client accepts: storage and signing key, `runtimes: []`, no default runtime name", () => {
    assert.equal(empty.secretOutputs.clientConfig, true);
    const config = parse(empty.outputs.clientConfig as string);
    validateConfigFile(config, "clientConfig output");
    const account = named(empty, "lithops-storage-account").inputs.accountName;
    assert.match(config.lithops.signing_key, /^generated-/);
    assert.equal(config.azure_storage.storage_account_name, account);
    assert.equal(config.azure_storage.storage_bucket, "lithops-jobs");
    assert.deepEqual(config.azure_containers, {
      resource_group: ofType(empty, T.group)[0]!.id.split("/").pop(),
      region: "westeurope",
      environment_id: ofType(empty, T.environment)[0]!.id,
      runtimes: [],
    });
  });
});

describe("pulumi program: stacks are independent", () => {
  it("dev and prod get their own names and graphs; a prod run leaves dev's graph as it was", async () => {
    const dev = await runProgram({ stack: "dev", config: DEV });
    const prod = await runProgram({
      stack: "prod",
      config: {
        runtimes: [
          { name: "default", memory: 2048, maxWorkers: 200 },
          { name: "myorg/node-ml:1", memory: 1024 },
        ],
        storage: { sku: "Standard_ZRS" },
        environment: { coreQuota: 300 },
      },
    });
    const devAgain = await runProgram({ stack: "dev", config: DEV }, { fresh: true });
    assert.deepEqual(diff(dev, devAgain), { added: [], removed: [], changed: [] });
    for (const pick of [
      (r: ProgramRun) => named(r, "lithops-storage-account").inputs.accountName,
      (r: ProgramRun) => ofType(r, T.environment)[0]!.inputs.resourceName,
      (r: ProgramRun) => ofType(r, T.registry)[0]!.inputs.registryName,
    ]) {
      assert.notEqual(pick(dev), pick(prod));
    }
    assert.equal(ofType(prod, T.environment)[0]!.inputs.resourceName, "lithops-prod");
    assert.deepEqual(
      ofType(prod, T.app)
        .map((a) => a.inputs.resourceName)
        .sort(),
      ["lithops-default-2048", runtimeResourceName("myorg/node-ml:1", 1024)].sort(),
    );
    assert.equal(props(app(prod, "lithops-default-2048")).template.scale.maxReplicas, 200);
    assert.equal(named(prod, "lithops-storage-account").inputs.sku.name, "Standard_ZRS");
    assert.equal(ofType(prod, T.image).length, 1, "the prebuilt image is not built");
  });
});

describe("pulumi program: image names that slug alike", () => {
  it("'myacct/img:1' and 'myacct-img:1' get two RuntimeImage components with distinct logical names", async () => {
    const run = await runProgram({ config: { runtimes: [{ name: "myacct/img:1" }, { name: "myacct-img:1" }] } });
    const images = run.resources.filter((r) => r.type === "lithops-aca:index:RuntimeImage").map((r) => r.name);
    assert.equal(images.length, 2);
    assert.equal(new Set(images).size, 2, images.join(", "));
    assert.equal(images[0], "lithops-image-myacct-img-1", "the first keeps its name");
  });
});

describe("pulumi program: other registries, existing resources, client principals", () => {
  it("Docker Hub: pushes with the user and secret token, the app pulls with a secret password; no ACR", async () => {
    const run = await runProgram({
      config: { ...DEV, registry: { type: "dockerhub", username: "someuser" } },
      secrets: { dockerHubToken: "dckr_pat_secret" },
    });
    assert.equal(ofType(run, T.registry).length, 0);
    assert.equal(run.fetches.length, 0);
    assert.equal(rolesOf(run, named(run, "lithops-imaging-2048-identity").state.principalId).length, 3, "no AcrPull");
    const image = imageBuiltFrom(run, IMAGING);
    assert.equal(image.inputs.imageName, "docker.io/someuser/imaging:latest");
    assert.ok(isSecretValue(image.inputs.registry));
    assert.deepEqual(reveal(image.inputs.registry), { server: "docker.io", username: "someuser", password: "dckr_pat_secret" });
    const configuration = reveal(props(app(run, "lithops-imaging-2048")).configuration);
    assert.ok(isSecretValue(app(run, "lithops-imaging-2048").inputs.properties));
    assert.deepEqual(configuration.registries, [{ server: "docker.io", username: "someuser", passwordSecretRef: "registry-password" }]);
    assert.deepEqual(
      configuration.secrets.map((s: { name: string }) => s.name),
      ["signing-key", "registry-password"],
    );
    assert.ok(!JSON.stringify(run.outputs.runtimes).includes("dckr_pat_secret"));
  });

  it("an existing ACR in another subscription: nothing created, reached through a provider for that subscription, one AcrPull grant there", async () => {
    const other = "77777777-6666-5555-4444-333333333333";
    const id = `/subscriptions/${other}/resourceGroups/shared/providers/Microsoft.ContainerRegistry/registries/sharedacr`;
    const run = await runProgram({ config: { ...DEV, runtimes: [...DEV.runtimes, { name: "node:22", memory: 1024 }], registry: { type: "acr", id } } });
    assert.equal(ofType(run, T.registry).length, 0);
    assert.equal(ofType(run, T.purge).length, 0, "a registry the stack does not own is not purged");
    const [provider, ...more] = ofType(run, "pulumi:providers:azure-native");
    assert.equal(more.length, 0);
    assert.equal(provider!.inputs.subscriptionId, other);
    const lookup = run.invokes.find((i) => i.token === "azure-native:containerregistry:getRegistry")!;
    assert.deepEqual(lookup.inputs, { resourceGroupName: "shared", registryName: "sharedacr" });
    const pulls = ofType(run, T.role).filter((r) => roleGuid(r) === ROLES.acrPull);
    assert.equal(pulls.length, 1, "one grant, to the stack's pull identity");
    assert.equal(pulls[0]!.inputs.scope, id);
    assert.equal(pulls[0]!.inputs.roleDefinitionId, `/subscriptions/${other}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.acrPull}`);
    // The grant and the cache rule live in the registry's subscription: they go through its provider.
    for (const resource of [pulls[0]!, ...ofType(run, T.cacheRule)]) assert.ok(resource.provider.startsWith(`${provider!.urn}::`), resource.name);
    assert.equal(ofType(run, T.cacheRule)[0]!.inputs.registryName, "sharedacr");
    assert.equal(ofType(run, T.cacheRule)[0]!.inputs.resourceGroupName, "shared");
    assert.match(ofType(run, T.image)[0]!.inputs.imageName, /^sharedacr\.azurecr\.io\//);
  });

  it("an existing environment and resource group: neither is created, apps use them", async () => {
    const environment = {
      id: "/subscriptions/s/resourceGroups/shared/providers/Microsoft.App/managedEnvironments/shared-env",
      workloadProfileName: "Consumption",
    };
    const run = await runProgram({
      config: { runtimes: [{ name: "myorg/node-ml:1", memory: 8192, maxWorkers: 10 }], environment, resourceGroupName: "shared" },
    });
    assert.equal(ofType(run, T.environment).length, 0);
    assert.equal(ofType(run, T.workspace).length, 0);
    assert.equal(ofType(run, T.group).length, 0);
    const a = ofType(run, T.app)[0]!;
    assert.equal(props(a).environmentId, environment.id);
    assert.equal(props(a).workloadProfileName, "Consumption");
    assert.equal(a.inputs.resourceGroupName, "shared");
    assert.deepEqual(props(a).template.containers[0].resources, { cpu: 4, memory: "8Gi" });
    assert.equal(ofType(run, T.image).length, 0, "prebuilt only: no build");
    assert.equal(ofType(run, T.cacheRule).length, 1, "served through the stack's registry");
  });

  it("named client principals replace the deployer", async () => {
    const principals = ["11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-000000000000"];
    const run = await runProgram({ config: { runtimes: [{ name: "lithopscloud/ca-node20:01" }], clientPrincipalIds: principals } });
    assert.equal(rolesOf(run, DEPLOYER).length, 0);
    for (const id of principals) assert.equal(rolesOf(run, id).length, 4, `blob + send + 2 reads for ${id}`);
  });
});
