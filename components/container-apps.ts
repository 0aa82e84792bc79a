import type * as inputs from "@pulumi/azure-native/types/input.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The Container Apps resources at a GA API version. `@pulumi/azure-native` 3.28 declares
 * `app.ContainerApp` and `app.ManagedEnvironment` only at 2025-02-02-preview (other versions
 * need an SDK generated with the Pulumi CLI), so they are declared as generic ARM resources
 * at this version, with their properties typed by the SDK's own input types.
 */
export const CONTAINER_APPS_API_VERSION = "2025-07-01";

export interface ContainerAppProperties {
  environmentId: pulumi.Input<string>;
  workloadProfileName?: string;
  configuration: inputs.app.ConfigurationArgs;
  template: inputs.app.TemplateArgs;
}

export interface ContainerAppJobProperties {
  environmentId: pulumi.Input<string>;
  workloadProfileName?: string;
  configuration: inputs.app.JobConfigurationArgs;
  template: inputs.app.JobTemplateArgs;
}

export interface ManagedEnvironmentProperties {
  appLogsConfiguration: inputs.app.AppLogsConfigurationArgs;
  workloadProfiles: inputs.app.WorkloadProfileArgs[];
}

interface CommonArgs {
  resourceName: pulumi.Input<string>;
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  tags: Record<string, string>;
}

function declare(
  name: string,
  resourceType: string,
  args: CommonArgs & { identity?: inputs.resources.IdentityArgs; properties: object },
  opts: pulumi.CustomResourceOptions,
): resources.Resource {
  return new resources.Resource(
    name,
    {
      apiVersion: CONTAINER_APPS_API_VERSION,
      resourceProviderNamespace: "Microsoft.App",
      parentResourcePath: "",
      resourceType,
      resourceName: args.resourceName,
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      identity: args.identity,
      properties: args.properties,
      tags: args.tags,
    },
    opts,
  );
}

/** A Container App (`Microsoft.App/containerApps`). */
export function containerApp(
  name: string,
  args: CommonArgs & { userAssignedIdentities: pulumi.Input<string>[]; properties: ContainerAppProperties },
  opts: pulumi.CustomResourceOptions,
): resources.Resource {
  return declare(name, "containerApps", { ...args, identity: { type: "UserAssigned", userAssignedIdentities: args.userAssignedIdentities } }, opts);
}

/** An event-driven Container Apps Job (`Microsoft.App/jobs`) at the same API version as the apps. */
export function containerAppJob(
  name: string,
  args: CommonArgs & { userAssignedIdentities: pulumi.Input<string>[]; properties: ContainerAppJobProperties },
  opts: pulumi.CustomResourceOptions,
): resources.Resource {
  return declare(name, "jobs", { ...args, identity: { type: "UserAssigned", userAssignedIdentities: args.userAssignedIdentities } }, opts);
}

export function managedEnvironment(
  name: string,
  args: CommonArgs & { properties: ManagedEnvironmentProperties },
  opts: pulumi.CustomResourceOptions,
): resources.Resource {
  return declare(name, "managedEnvironments", args, opts);
}
