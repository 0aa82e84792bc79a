import { createHash } from "node:crypto";

/**
 * What the Pulumi mocks answer, as Azure would (ids, names, endpoints, digests computed
 * from the inputs), and the shapes of a mocked run that the tests read.
 */

export const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
export const TENANT = "99999999-8888-7777-6666-555555555555";
export const DEPLOYER = "abcdefab-0000-4000-8000-000000000001";
export const ARM_TOKEN = "arm-token-of-the-deployer";
/** What getClientToken answers for the ACR audience. */
export const ACR_AUDIENCE_TOKEN = "acr-audience-token-of-the-deployer";
export const ACR_REFRESH_TOKEN = "acr-refresh-token";

export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface MockResource {
  type: string;
  name: string;
  urn: string;
  id: string;
  /** URNs of the resources it depends on (explicit dependsOn and inputs from other resources). */
  dependencies: string[];
  /** Pulumi's `protect` option. */
  protect: boolean;
  /** `<urn>::<id>` of an explicit provider; empty for the default one. */
  provider: string;
  /** URN of its parent; empty at the stack's root. */
  parent: string;
  /** URNs it is aliased to (its URNs in earlier versions of the program), as the SDK computes them with its parents' aliases. */
  aliases: string[];
  /** Inputs as the program gave them; a secret input is `{ [sig]: secret, value }`. */
  inputs: Record<string, any>;
  /** What the mock answered for it (ids, endpoints, digests). */
  state: Record<string, any>;
}

export interface ProgramRun {
  resources: MockResource[];
  outputs: Record<string, unknown>;
  /** Whether each stack output is a secret. */
  secretOutputs: Record<string, boolean>;
  /** Requests the program sent with fetch (the ACR token exchange). */
  fetches: { url: string; body: string }[];
  /** Provider functions the program invoked, with their arguments. */
  invokes: { token: string; inputs: Record<string, any> }[];
}

export interface Scenario {
  stack?: string;
  /** Values of `lithops-aca:*` keys (objects are passed as JSON, as the CLI does). */
  config?: Record<string, unknown>;
  /** Secret `lithops-aca:*` keys. */
  secrets?: Record<string, string>;
  /** `azure-native:location`; westeurope unless given. */
  location?: string;
  /** Leave out `azure-native:location`. */
  noLocation?: boolean;
  /** URL of the program module; a fresh import of ../index.ts by default. */
  program?: string;
  /** Run as `pulumi preview` does (`pulumi.runtime.isDryRun()`). */
  preview?: boolean;
  /** The name of a function `program` exports that declares resources and returns the outputs (a module's imports happen once). */
  programFunction?: string;
  /** A program given as a function (returns its outputs) instead of a module; it runs in the test's own thread. */
  inline?: () => Record<string, unknown>;
}

export function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain value of a possibly secret input. */
export function reveal<T = any>(value: unknown): T {
  return (isSecretValue(value) ? value.value : value) as T;
}

const hex = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);
const guidFrom = (text: string) => {
  const h = hex(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** What Azure would answer: ids, names, endpoints, digests computed from the inputs. */
export function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const rg = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${reveal(inputs.resourceGroupName) ?? "none"}`;
  switch (type) {
    case "azure-native:resources:ResourceGroup": {
      const groupName = inputs.resourceGroupName ?? `${name}${hex(name, 8)}`;
      return { id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${groupName}`, state: { ...inputs, name: groupName } };
    }
    case "azure-native:storage:StorageAccount": {
      const account = inputs.accountName;
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${account}`,
        state: {
          ...inputs,
          name: account,
          primaryEndpoints: { blob: `https://${account}.blob.core.windows.net/`, queue: `https://${account}.queue.core.windows.net/` },
        },
      };
    }
    case "azure-native:storage:BlobContainer":
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/blobServices/default/containers/${inputs.containerName}`,
        state: { ...inputs, name: inputs.containerName },
      };
    case "azure-native:storage:Queue":
      return {
        id: `${rg}/providers/Microsoft.Storage/storageAccounts/${inputs.accountName}/queueServices/default/queues/${inputs.queueName}`,
        state: { ...inputs, name: inputs.queueName },
      };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return {
        id: `${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}`,
        state: {
          ...inputs,
          name: inputs.resourceName,
          clientId: guidFrom(`client:${inputs.resourceName}`),
          principalId: guidFrom(`principal:${inputs.resourceName}`),
        },
      };
    case "azure-native:containerregistry:Registry":
      return {
        id: `${rg}/providers/Microsoft.ContainerRegistry/registries/${inputs.registryName}`,
        state: { ...inputs, name: inputs.registryName, loginServer: `${inputs.registryName}.azurecr.io` },
      };
    case "azure-native:operationalinsights:Workspace":
      return { id: `${rg}/providers/Microsoft.OperationalInsights/workspaces/${name}`, state: { ...inputs, name, customerId: guidFrom(name) } };
    case "azure-native:resources:Resource":
      return {
        id: `${rg}/providers/${inputs.resourceProviderNamespace}/${inputs.resourceType}/${inputs.resourceName}`,
        state: { ...inputs, name: inputs.resourceName },
      };
    case "docker:index/image:Image": {
      // A digest that changes with anything that changes the build.
      const digest = hex(JSON.stringify({ imageName: inputs.imageName, build: inputs.build }), 64);
      const repository = String(inputs.imageName).replace(/:[^/:]+$/, "");
      return { id: `${repository}@sha256:${digest}`, state: { ...inputs, repoDigest: `${repository}@sha256:${digest}` } };
    }
    case "random:index/randomPassword:RandomPassword":
      return { id: name, state: { ...inputs, result: `generated-${hex(name, 40)}` } };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

export function mockCall(token: string, inputs: Record<string, any>): Record<string, any> {
  switch (token) {
    case "azure-native:authorization:getClientConfig":
      return { subscriptionId: SUBSCRIPTION, tenantId: TENANT, objectId: DEPLOYER, clientId: "deployer-app" };
    case "azure-native:authorization:getClientToken":
      return { token: inputs.endpoint === "https://containerregistry.azure.net" ? ACR_AUDIENCE_TOKEN : ARM_TOKEN };
    case "azure-native:operationalinsights:getSharedKeys":
      return { primarySharedKey: "workspace-shared-key" };
    case "azure-native:containerregistry:getRegistry":
      return { loginServer: `${inputs.registryName}.azurecr.io`, id: `registry-${inputs.registryName}` };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}
