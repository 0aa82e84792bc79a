import { createHash } from "node:crypto";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import { Provider } from "@pulumi/azure-native/provider.js";
import * as pulumi from "@pulumi/pulumi";
import { cachedRepository, upstreamImage } from "./image-reference.ts";
import { assignRole } from "./roles.ts";

/** The user name ACR expects with a refresh token obtained through Entra ID. */
export const ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000";
/** ACR's own Entra ID audience: the token exchange never needs an ARM token, which organisations may refuse for ACR. */
export const ACR_AUDIENCE = "https://containerregistry.azure.net";
/** Daily, at a quiet hour (UTC). */
const PURGE_SCHEDULE = "0 3 * * *";
const DOCKER_HUB_SERVER = "docker.io";

/** Where the pull identity lives: the stack's resource group. */
interface IdentityPlacement {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  tags: Record<string, string>;
  /** Azure name of the pull identity; `lithops-registry-pull` by default. */
  pullIdentityName?: string;
}

export type RuntimeRegistryArgs =
  | ({
      kind: "acr";
      registryName: pulumi.Input<string>;
      sku: string;
      /** Untagged manifests older than this are purged daily. */
      untaggedRetentionDays: number;
    } & IdentityPlacement)
  | ({ kind: "existing-acr"; id: string } & IdentityPlacement)
  | { kind: "dockerhub"; username: string; namespace?: string; token: pulumi.Input<string> };

export interface PushCredentials {
  server: string;
  username: string;
  password: string;
}

/** How a Container App pulls from this registry. */
export type PullAccess =
  | {
      kind: "identity";
      server: pulumi.Output<string>;
      /** The stack's pull identity, shared by every app. */
      identityId: pulumi.Output<string>;
      /** Its AcrPull grant, made with the registry: apps depend on it, so it is never newer than they are. */
      grant: authorization.RoleAssignment;
    }
  | { kind: "password"; server: string; username: string; password: pulumi.Output<string> };

/**
 * Exchanges an Entra ID token (ACR audience) of the deploying identity for an ACR refresh
 * token, as `az acr login` does, so images are pushed without the registry's admin user.
 */
export async function acrRefreshToken(loginServer: string, tenantId: string, accessToken: string): Promise<string> {
  const response = await fetch(`https://${loginServer}/oauth2/exchange`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "access_token", service: loginServer, tenant: tenantId, access_token: accessToken }),
  });
  if (!response.ok) {
    throw new Error(
      `could not get a push token for ${loginServer} (HTTP ${response.status}); the deploying identity needs AcrPush, Contributor or Owner on the registry`,
    );
  }
  const body = (await response.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`${loginServer} answered the token exchange without a refresh token`);
  return body.refresh_token;
}

/**
 * `acr purge` of untagged manifests, as an ACR task step (the `acr` alias runs the ACR CLI
 * against this registry). The tag pattern `^$` matches no tag, so no tag is ever deleted:
 * apps run the digest their tag points at, and only manifests no tag points at go.
 */
function purgeTaskContent(untaggedRetentionDays: number): string {
  return [
    "version: v1.1.0",
    "steps:",
    `  - cmd: acr purge --filter '.*:^$' --untagged --ago ${untaggedRetentionDays}d`,
    "    disableWorkingDirectoryOverride: true",
    "    timeout: 3600",
    "",
  ].join("\n");
}

/** Parts of a registry resource id. */
function registryIdParts(id: string): { subscriptionId: string; resourceGroupName: string; registryName: string } {
  const [, subscriptionId, resourceGroupName, registryName] = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/.*\/registries\/([^/]+)$/i.exec(id) ?? [];
  return { subscriptionId: subscriptionId!, resourceGroupName: resourceGroupName!, registryName: registryName! };
}

/**
 * The registry runtime images come from: an Azure Container Registry created by the stack
 * (admin user off, untagged manifests purged on a schedule) or an existing one, in any
 * subscription; or Docker Hub with a user name and a secret access token. An ACR comes with
 * one pull identity for every app, granted AcrPull with the registry, and serves prebuilt
 * public images through cache rules, so replicas never pull them from the public registry.
 */
export class RuntimeRegistry extends pulumi.ComponentResource {
  /** Prefix of image names, e.g. `lithopsabc.azurecr.io` or `docker.io/myuser`. */
  readonly repositoryPrefix: pulumi.Output<string>;
  readonly push: pulumi.Output<PushCredentials>;
  readonly pull: PullAccess;
  private readonly acr?: { registryName: pulumi.Input<string>; resourceGroupName: pulumi.Input<string>; opts: pulumi.CustomResourceOptions };
  /** The component's Pulumi name: cache rules' names start with it, so two registries in one program never share one. */
  private readonly resourceName: string;
  /** A registry moved here from an older name keeps its cache rules, which were named by the rule alone. */
  private readonly moved: boolean;
  private readonly cacheRules = new Map<string, pulumi.Output<string>>();

  constructor(name: string, args: RuntimeRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeRegistry", name, {}, opts);
    this.resourceName = name;
    this.moved = (opts?.aliases?.length ?? 0) > 0;
    if (args.kind === "dockerhub") {
      this.repositoryPrefix = pulumi.output(`${DOCKER_HUB_SERVER}/${args.namespace ?? args.username}`);
      const password = pulumi.secret(args.token);
      this.push = pulumi.secret(pulumi.output(password).apply((p) => ({ server: DOCKER_HUB_SERVER, username: args.username, password: p })));
      this.pull = { kind: "password", server: DOCKER_HUB_SERVER, username: args.username, password };
      this.registerOutputs({ repositoryPrefix: this.repositoryPrefix });
      return;
    }

    const child = { parent: this };
    let loginServer: pulumi.Output<string>;
    let registryId: pulumi.Output<string>;
    let registrySubscription: pulumi.Input<string>;
    if (args.kind === "acr") {
      const registry = new containerregistry.Registry(
        `${name}-acr`,
        {
          registryName: args.registryName,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          sku: { name: args.sku },
          adminUserEnabled: false,
          tags: args.tags,
        },
        child,
      );
      loginServer = registry.loginServer;
      registryId = registry.id;
      registrySubscription = authorization.getClientConfigOutput(child).subscriptionId;
      this.acr = { registryName: registry.name, resourceGroupName: args.resourceGroupName, opts: child };
      new containerregistry.Task(
        `${name}-purge`,
        {
          registryName: registry.name,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          taskName: "purge-untagged",
          platform: { os: containerregistry.OS.Linux },
          step: { type: "EncodedTask", encodedTaskContent: Buffer.from(purgeTaskContent(args.untaggedRetentionDays)).toString("base64") },
          trigger: { timerTriggers: [{ name: "daily", schedule: PURGE_SCHEDULE }] },
          status: containerregistry.TaskStatus.Enabled,
          tags: args.tags,
        },
        child,
      );
    } else {
      // The registry may live in another subscription: reach it through a provider for that one.
      const parts = registryIdParts(args.id);
      const provider = new Provider(`${name}-subscription`, { subscriptionId: parts.subscriptionId }, child);
      const inRegistrySubscription = { parent: this, provider };
      loginServer = containerregistry
        .getRegistryOutput({ resourceGroupName: parts.resourceGroupName, registryName: parts.registryName }, inRegistrySubscription)
        .apply((r) => r.loginServer);
      registryId = pulumi.output(args.id);
      registrySubscription = parts.subscriptionId;
      this.acr = { registryName: parts.registryName, resourceGroupName: parts.resourceGroupName, opts: inRegistrySubscription };
    }

    // One pull identity for all apps, granted with the registry: by the time an app is created
    // (after its image is built or cached) the grant has had time to apply, and a runtime added
    // later finds it long in place.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-pull`,
      { resourceName: args.pullIdentityName ?? "lithops-registry-pull", resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
      child,
    );
    const grant = assignRole(
      `${name}-acr-pull`,
      { role: "acrPull", scope: registryId, principalId: identity.principalId, principalType: "ServicePrincipal" },
      registrySubscription,
      this.acr.opts,
    );

    // A preview must work with read rights only: no token, no exchange; the credentials are
    // unknown then, as any value computed during an update is.
    if (pulumi.runtime.isDryRun()) {
      this.push = pulumi.secret(pulumi.output(pulumi.unknown) as pulumi.Output<PushCredentials>);
    } else {
      const client = authorization.getClientConfigOutput(child);
      const token = authorization.getClientTokenOutput({ endpoint: ACR_AUDIENCE }, child);
      this.push = pulumi.secret(
        pulumi.all([loginServer, client.tenantId, token.token]).apply(async ([server, tenantId, accessToken]) => ({
          server,
          username: ACR_TOKEN_USER,
          password: await acrRefreshToken(server, tenantId, accessToken),
        })),
      );
    }
    this.repositoryPrefix = loginServer;
    this.pull = { kind: "identity", server: loginServer, identityId: identity.id, grant };
    this.registerOutputs({ repositoryPrefix: this.repositoryPrefix, pullIdentityId: identity.id });
  }

  /** Full name to push `repository:tag` under; Docker Hub keeps only the last path segment under the namespace. */
  imageName(repository: string, tag: string): pulumi.Output<string> {
    const path = this.pull.kind === "password" ? repository.slice(repository.lastIndexOf("/") + 1) : repository;
    return pulumi.interpolate`${this.repositoryPrefix}/${path}:${tag}`;
  }

  /**
   * The reference apps pull a public image by: through a cache rule of this ACR (one per
   * upstream repository), or the image itself when the registry is Docker Hub.
   */
  cached(image: string): pulumi.Output<string> {
    if (!this.acr) return pulumi.output(image);
    const upstream = upstreamImage(image);
    const target = cachedRepository(upstream);
    let repository = this.cacheRules.get(target);
    if (!repository) {
      const hash = createHash("sha256").update(target).digest("hex").slice(0, 8);
      // Also the rule's name in Azure: at most 50 characters.
      const ruleName = `${target
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 40)}-${hash}`;
      const rule = new containerregistry.CacheRule(
        `${this.resourceName}-${ruleName}`,
        {
          registryName: this.acr.registryName,
          resourceGroupName: this.acr.resourceGroupName,
          cacheRuleName: ruleName,
          sourceRepository: `${upstream.registry}/${upstream.repository}`,
          targetRepository: target,
        },
        this.moved ? { ...this.acr.opts, aliases: [{ name: ruleName }] } : this.acr.opts,
      );
      repository = pulumi.interpolate`${this.repositoryPrefix}/${rule.targetRepository.apply((t) => t ?? target)}`;
      this.cacheRules.set(target, repository);
    }
    return pulumi.interpolate`${repository}${upstream.suffix}`;
  }
}
