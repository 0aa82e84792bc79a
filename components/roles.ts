import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as pulumi from "@pulumi/pulumi";

/**
 * Built-in Azure roles the stack assigns, each at the narrowest scope that works
 * (a queue, the job container, the registry) instead of account keys.
 */
export const ROLES = {
  /** Pull images from a registry (the app, through its identity). */
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  /**
   * Receive, renew (update), delete messages and read queue length. Message Processor
   * cannot update a message, and the worker renews visibility while a call runs.
   */
  queueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  /** Add messages only: the worker to the poison queue, the client to the runtime queue. */
  queueDataMessageSender: "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
  /** Peek and read queue properties: the client watching queue and poison queue. */
  queueDataReader: "19e7f393-937e-4f77-808e-94535e297925",
  /** Read, write and delete job data blobs. */
  blobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
} as const;

export type RoleName = keyof typeof ROLES;

export function roleDefinitionId(subscriptionId: pulumi.Input<string>, role: RoleName): pulumi.Output<string> {
  return pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;
}

export interface Grant {
  role: RoleName;
  scope: pulumi.Input<string>;
  principalId: pulumi.Input<string>;
  /** Known for managed identities; left out for principals that may be users or groups. */
  principalType?: "ServicePrincipal";
}

/** One role assignment; `name` must be unique among the parent's children. */
export function assignRole(name: string, grant: Grant, subscriptionId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      principalId: grant.principalId,
      // Stating the type avoids a failure when a new identity has not replicated yet.
      principalType: grant.principalType,
      roleDefinitionId: roleDefinitionId(subscriptionId, grant.role),
      scope: grant.scope,
    },
    opts,
  );
}
