import * as names from "../azure/resource-names.ts";
import { APP_NAME_MAX } from "../azure/runtime-name.ts";
import { DEFAULT_STACK_NAME } from "./stack-config.ts";

/** The prefix of every Azure name the stack chooses, as runtime-name.ts and resource-names.ts write it. */
const AZURE_PREFIX = "lithops";

/**
 * The Azure names of one `LithopsStack` instance. The instance named `lithops` (the package's
 * own program) keeps the names stacks had before the component existed; any other instance
 * puts its own name where those have `lithops`, so two instances in one program (or one
 * resource group) never ask Azure for the same name.
 */
export class InstanceNames {
  private readonly legacy: boolean;
  private readonly slug: string;

  constructor(
    readonly instance: string,
    private readonly stack: string,
  ) {
    this.legacy = instance === DEFAULT_STACK_NAME;
    // Azure's most restrictive rule among these names: lower case letters, digits and single hyphens, starting with a letter.
    const slug = instance
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^[^a-z]+|-+$/g, "");
    this.slug = slug || AZURE_PREFIX;
  }

  /** The parts the storage account and registry names hash: unique per subscription, organization, project, stack and instance. */
  suffixParts(subscription: string, organization: string, project: string): string[] {
    const parts = [subscription, organization, project, this.stack];
    return this.legacy ? parts : [...parts, this.instance];
  }

  environmentName(): string {
    return names.environmentName(this.legacy ? this.stack : `${this.slug}-${this.stack}`);
  }

  /**
   * A resource-group-scoped name derived from a `lithops-...` name (a runtime's app, identity
   * and alert; the registry's pull identity), at most 32 characters (Container Apps' limit),
   * with a hash when the instance's name made it longer.
   */
  azureName(base: string): string {
    if (this.legacy || !base.startsWith(`${AZURE_PREFIX}-`)) return base;
    const name = `${this.slug}${base.slice(AZURE_PREFIX.length)}`;
    if (name.length <= APP_NAME_MAX) return name;
    const hash = names.uniqueSuffix(name).slice(0, 6);
    return `${name.slice(0, APP_NAME_MAX - hash.length - 1).replace(/-+$/, "")}-${hash}`;
  }

  /** The Pulumi name of a child: `<instance>-<part>`. */
  child(part: string): string {
    return `${this.instance}-${part}`;
  }

  /** The Pulumi name of a runtime component: `<instance>-<name>-<memory>` (today's `lithops-<name>-<memory>` for the default instance). */
  runtime(resourceName: string): string {
    return this.child(resourceName.slice(AZURE_PREFIX.length + 1));
  }
}
