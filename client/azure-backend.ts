import { RuntimeNotDeployedError } from "./errors.ts";
import type { ExecutionBackend, RuntimeTarget } from "../runtime-model/backend.ts";
import { runtimeMetadataKey } from "../protocol/keys.ts";
import type { RuntimeMetadata } from "../protocol/output.ts";
import { runtimeQueues } from "../azure/runtime-name.ts";
import { connectStorage, downloadBytes, isNotFound, type StorageSettings } from "../azure/storage-connection.ts";
import { NODE_MAJOR } from "../protocol/version.ts";
import type { DeployedRuntime } from "./config.ts";

/**
 * Azure Container Apps: the runtimes were deployed by the Pulumi program; this side only
 * finds the runtime's queue and checks the runtime against the client.
 */
export class AzureContainersBackend implements ExecutionBackend {
  readonly kind = "azure_containers" as const;
  private readonly clients;

  constructor(
    readonly storage: StorageSettings,
    private readonly deployed: DeployedRuntime[],
    private readonly warn: (line: string) => void,
  ) {
    this.clients = connectStorage(storage);
  }

  async prepareRuntime(name: string, memory: number): Promise<RuntimeTarget> {
    const listed = this.deployed.find((r) => r.name === name && r.memory === memory);
    const target = listed ? { name, memory, queue: listed.queue, poisonQueue: listed.poison_queue } : { name, memory, ...runtimeQueues(name, memory) };
    const exists = await this.clients.queueService.getQueueClient(target.queue).exists();
    if (!exists) {
      const known = this.deployed.map((r) => `${r.name} (${r.memory} MB)`).join(", ") || "none listed in the config";
      throw new RuntimeNotDeployedError(
        `runtime '${name}' with ${memory} MB is not deployed (no queue '${target.queue}'); deployed: ${known}. ` +
          `Add it to lithops-aca:runtimes in Pulumi.<stack>.yaml and run \`pulumi up\`, or run \`npx lithops-aca runtime deploy ${name} --memory ${memory}\``,
      );
    }
    await this.checkMetadata(target);
    return target;
  }

  submitted(): void {}

  peakWorkers(): undefined {
    return undefined;
  }

  async close(): Promise<void> {}

  private async checkMetadata(target: RuntimeTarget): Promise<void> {
    try {
      const metadata = JSON.parse((await downloadBytes(this.clients.container, runtimeMetadataKey(target.queue))).toString()) as RuntimeMetadata;
      if (metadata.nodeMajor !== NODE_MAJOR) {
        this.warn(
          `runtime '${target.name}' runs Node.js ${metadata.nodeVersion} but this client runs Node.js ${process.version}: calls will fail; deploy a runtime built for Node.js ${NODE_MAJOR}`,
        );
      }
    } catch (error) {
      // No metadata yet: no worker of this runtime has started since it was deployed.
      if (!isNotFound(error)) throw error;
    }
  }
}
