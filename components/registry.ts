import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";

/** The user name ACR expects with a refresh token obtained through Entra ID. */
export const ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000";
const DOCKER_HUB_SERVER = "docker.io";

export type RuntimeRegistryArgs =
  | {
      kind: "acr";
      resourceGroupName: pulumi.Input<string>;
      location: pulumi.Input<string>;
      registryName: pulumi.Input<string>;
      sku: string;
      tags: Record<string, string>;
    }
  | { kind: "existing-acr"; id: string }
  | { kind: "dockerhub"; username: string; namespace?: string; token: pulumi.Input<string> };

export interface PushCredentials {
  server: string;
  username: string;
  password: string;
}

/** How a Container App pulls from this registry. */
export type PullAccess =
  | { kind: "identity"; server: pulumi.Output<string>; registryId: pulumi.Output<string> }
  | { kind: "password"; server: string; username: string; password: pulumi.Output<string> };

/**
 * Exchanges an Entra ID token of the deploying identity for an ACR refresh token, as
 * `az acr login` does, so images are pushed without enabling the registry's admin user.
 */
export async function acrRefreshToken(loginServer: string, tenantId: string, armToken: string): Promise<string> {
  const response = await fetch(`https://${loginServer}/oauth2/exchange`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "access_token", service: loginServer, tenant: tenantId, access_token: armToken }),
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
 * The registry runtime images are pushed to: an Azure Container Registry created by
 * the stack (admin user off; apps pull through their identity with AcrPull), an
 * existing one, or Docker Hub with a user name and a secret access token.
 */
export class RuntimeRegistry extends pulumi.ComponentResource {
  /** Prefix of image names, e.g. `lithopsabc.azurecr.io` or `docker.io/myuser`. */
  readonly repositoryPrefix: pulumi.Output<string>;
  readonly push: pulumi.Output<PushCredentials>;
  readonly pull: PullAccess;

  constructor(name: string, args: RuntimeRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeRegistry", name, {}, opts);
    if (args.kind === "dockerhub") {
      this.repositoryPrefix = pulumi.output(`${DOCKER_HUB_SERVER}/${args.namespace ?? args.username}`);
      const password = pulumi.secret(args.token);
      this.push = pulumi.secret(
        pulumi.output(password).apply((p) => ({ server: DOCKER_HUB_SERVER, username: args.username, password: p })),
      );
      this.pull = { kind: "password", server: DOCKER_HUB_SERVER, username: args.username, password };
    } else {
      let loginServer: pulumi.Output<string>;
      let registryId: pulumi.Output<string>;
      if (args.kind === "acr") {
        const registry = new azure.containerregistry.Registry(
          `${name}-acr`,
          {
            registryName: args.registryName,
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            sku: { name: args.sku },
            adminUserEnabled: false,
            tags: args.tags,
          },
          { parent: this },
        );
        loginServer = registry.loginServer;
        registryId = registry.id;
      } else {
        const [, resourceGroupName, registryName] = /resourceGroups\/([^/]+)\/.*\/registries\/([^/]+)$/i.exec(args.id) ?? [];
        loginServer = azure.containerregistry
          .getRegistryOutput({ resourceGroupName: resourceGroupName!, registryName: registryName! }, { parent: this })
          .apply((r) => r.loginServer);
        registryId = pulumi.output(args.id);
      }
      const client = azure.authorization.getClientConfigOutput({ parent: this });
      const token = azure.authorization.getClientTokenOutput({}, { parent: this });
      this.push = pulumi.secret(
        pulumi.all([loginServer, client.tenantId, token.token]).apply(async ([server, tenantId, armToken]) => ({
          server,
          username: ACR_TOKEN_USER,
          password: await acrRefreshToken(server, tenantId, armToken),
        })),
      );
      this.repositoryPrefix = loginServer;
      this.pull = { kind: "identity", server: loginServer, registryId };
    }
    this.registerOutputs({ repositoryPrefix: this.repositoryPrefix });
  }

  /** Full name to push `repository:tag` under; Docker Hub keeps only the last path segment under the namespace. */
  imageName(repository: string, tag: string): pulumi.Output<string> {
    const path = this.pull.kind === "password" ? repository.slice(repository.lastIndexOf("/") + 1) : repository;
    return pulumi.interpolate`${this.repositoryPrefix}/${path}:${tag}`;
  }
}
