import * as monitor from "@pulumi/azure-native/monitor/index.js";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as pulumi from "@pulumi/pulumi";
import { managedEnvironment } from "./container-apps.ts";

/**
 * Log categories of a Container Apps environment sent to the workspace: the workers' console
 * output and the platform's events (scaling, revisions, job executions).
 * https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-app-managedenvironments-logs
 */
export const ENVIRONMENT_LOG_CATEGORIES = ["ContainerAppConsoleLogs", "ContainerAppSystemLogs"] as const;

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
 * Where runtimes run: a Container Apps environment whose logs go to a Log Analytics
 * workspace (through a diagnostic setting), or an existing environment by id.
 */
export class RuntimeEnvironment extends pulumi.ComponentResource {
  readonly id: pulumi.Output<string>;
  /** The Log Analytics workspace the stack created; undefined for an existing environment. */
  readonly workspaceId: pulumi.Output<string> | undefined;
  /** Profile apps are placed on; undefined for a Consumption-only environment. */
  readonly workloadProfileName: string | undefined;

  constructor(name: string, args: RuntimeEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeEnvironment", name, {}, opts);
    if (args.existing) {
      this.id = pulumi.output(args.existing.id);
      this.workspaceId = undefined;
      this.workloadProfileName = args.existing.workloadProfileName;
    } else {
      const workspace = new operationalinsights.Workspace(
        `${name}-logs`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
          retentionInDays: args.logRetentionDays,
          tags: args.tags,
        },
        { parent: this },
      );
      const environment = managedEnvironment(
        `${name}-env`,
        {
          resourceName: args.environmentName,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          tags: args.tags,
          properties: {
            // Logs go through diagnostic settings into the workspace's built-in tables (ContainerAppConsoleLogs, ...),
            // which exist from the workspace's creation: a log alert on them can be created before the first log line.
            appLogsConfiguration: { destination: "azure-monitor" },
            // A workload-profiles environment: its Consumption profile also takes the sizes above 4096 MB.
            workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
          },
        },
        { parent: this },
      );
      new monitor.DiagnosticSetting(
        `${name}-logs-to-workspace`,
        {
          name: "lithops-logs",
          resourceUri: environment.id,
          workspaceId: workspace.id,
          // Resource-specific tables (ContainerAppConsoleLogs), not AzureDiagnostics.
          logAnalyticsDestinationType: "Dedicated",
          logs: ENVIRONMENT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
        },
        { parent: this },
      );
      this.id = environment.id;
      this.workspaceId = workspace.id;
      this.workloadProfileName = CONSUMPTION_PROFILE;
    }
    this.registerOutputs({ id: this.id, workspaceId: this.workspaceId });
  }
}
