import assert from "node:assert/strict";
import { parse } from "yaml";
import { DEV_ACCOUNT, type Azurite } from "../../local/azurite.ts";
import { ENV } from "../../protocol/env.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { armProperties, named, reveal, type ProgramRun } from "./pulumi-harness.ts";

/**
 * A runtime's Container App from a mock run of the Pulumi program, made real on Azurite:
 * its container env, what `pulumi up` creates for it in storage, and the storage settings
 * (worker env, client config) redirected to the emulator, whose connection string stands
 * in for the managed identity it cannot check.
 */

/** The env of the app `${app}-app` as Azure would set it: plain values, and secretRefs resolved from the app's secrets. */
export function containerEnv(run: ProgramRun, app: string): Record<string, string> {
  const { configuration, template } = armProperties(named(run, `${app}-app`));
  const secrets = new Map<string, string>(reveal(configuration).secrets.map((s: { name: string; value: unknown }) => [s.name, reveal(s.value)]));
  const env: Record<string, string> = {};
  for (const variable of template.containers[0].env as { name: string; value?: string; secretRef?: string }[]) {
    const value = variable.secretRef === undefined ? variable.value : secrets.get(variable.secretRef);
    assert.ok(value !== undefined, `${variable.name} has no value (secretRef ${variable.secretRef})`);
    env[variable.name] = value;
  }
  return env;
}

/** What `pulumi up` creates for the runtime: its job container and its queues. */
export async function createRuntimeStorage(azurite: Azurite, env: Record<string, string>): Promise<void> {
  const storage = connectStorage({ connectionString: azurite.connectionString, container: env[ENV.container]! });
  await storage.container.create();
  await storage.queueService.createQueue(env[ENV.queue]!);
  await storage.queueService.createQueue(env[ENV.poisonQueue]!);
}

/** The worker settings that point its storage at Azurite, to spread over the container's env. */
export function workerStorageOnAzurite(azurite: Azurite): Record<string, string> {
  return {
    [ENV.storageAccount]: DEV_ACCOUNT,
    [ENV.blobEndpoint]: azurite.blobEndpoint,
    [ENV.queueEndpoint]: azurite.queueEndpoint,
    [ENV.connectionString]: azurite.connectionString,
  };
}

/** The stack's `clientConfig` output (YAML), its azure_storage section pointed at Azurite. */
export function clientConfigOnAzurite(clientConfigYaml: string, azurite: Azurite): any {
  const clientConfig = parse(clientConfigYaml);
  clientConfig.azure_storage = {
    ...clientConfig.azure_storage,
    storage_account_name: DEV_ACCOUNT,
    blob_endpoint: azurite.blobEndpoint,
    queue_endpoint: azurite.queueEndpoint,
    connection_string: azurite.connectionString,
  };
  return clientConfig;
}
