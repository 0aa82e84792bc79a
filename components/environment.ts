import * as azure from "@pulumi/azure-native";
import * as pulumi from "@pulumi/pulumi";

/** The Consumption profile of a workload-profiles environment: serverless, and takes up to 4 vCPU / 8 GiB. */
const CONSUMPTION_PROFILE = "Consumption";

export interface RuntimeEnvironmentArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  /** Name of the environment the stack creates. */
  environmentName: string;
  logRetentionDays: number;
  tags: Record<string, string>;
  /** Use this environment (Lithops's `environment_id`) instead of creating one. */
  existing?: { id: string; workloadProfileName?: string };
}

/**
 * Where runtimes run: a Container Apps environment logging to a Log Analytics
 * workspace, or an existing environment by id.
 */
export class RuntimeEnvironment extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  /** Profile apps are placed on; undefined for a Consumption-only environment. */
  readonly workloadProfileName: string | undefined;

  constructor(name: string, args: RuntimeEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeEnvironment", name, {}, opts);
    if (args.existing) {
      this.id = pulumi.output(args.existing.id);
      this.workloadProfileName = args.existing.workloadProfileName;
    } else {
      const workspace = new azure.operationalinsights.Workspace(
        `${name}-logs`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          sku: { name: azure.operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
          retentionInDays: args.logRetentionDays,
          tags: args.tags,
        },
        { parent: this },
      );
      const keys = azure.operationalinsights.getSharedKeysOutput(
        { resourceGroupName: args.resourceGroupName, workspaceName: workspace.name },
        { parent: this },
      );
      const environment = new azure.app.ManagedEnvironment(
        `${name}-env`,
        {
          environmentName: args.environmentName,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          appLogsConfiguration: {
            destination: "log-analytics",
            logAnalyticsConfiguration: {
              customerId: workspace.customerId,
              sharedKey: pulumi.secret(keys.apply((k) => k.primarySharedKey ?? "")),
            },
          },
          // A workload-profiles environment: its Consumption profile also takes the 8192 MB size.
          workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
          tags: args.tags,
        },
        { parent: this },
      );
      this.id = environment.id;
      this.workloadProfileName = CONSUMPTION_PROFILE;
    }
    this.registerOutputs({ id: this.id });
  }
}
