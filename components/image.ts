import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageSource } from "./stack-config.ts";
import type { RuntimeRegistry } from "./registry.ts";

/** Container Apps run linux/amd64, whatever machine runs `pulumi up`. */
const IMAGE_PLATFORM = "linux/amd64";

export interface RuntimeImageArgs {
  source: ImageSource;
  /** Where built images are pushed; not needed for a prebuilt image. */
  registry?: RuntimeRegistry;
  /** Node.js major of the image (the default runtime follows the deploying machine's). */
  nodeMajor: number;
  /** The runtime's `revision`: above 0 it is passed as build arg LITHOPS_REVISION, so a new value rebuilds the image. */
  revision?: number;
}

/**
 * The image a runtime runs: built from a Dockerfile (the project root is the build
 * context, since runtimes copy protocol/, worker/ and client/) and pushed, or a
 * prebuilt image used as is. `ref` is the pushed digest, so a changed image gives the
 * Container App a new revision even when the tag stays the same.
 */
export class RuntimeImage extends pulumi.ComponentResource {
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: RuntimeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeImage", name, {}, opts);
    const { source } = args;
    if (source.kind === "prebuilt") {
      this.ref = pulumi.output(source.image);
    } else {
      if (!args.registry) throw new Error(`image ${name}: building ${source.dockerfile} needs a registry to push to`);
      const image = new docker.Image(
        `${name}-build`,
        {
          imageName: args.registry.imageName(source.repository, source.tag),
          build: {
            // Pulumi runs the program in the project root.
            context: ".",
            dockerfile: source.dockerfile,
            platform: IMAGE_PLATFORM,
            args: { NODE_MAJOR: String(args.nodeMajor), ...(args.revision ? { LITHOPS_REVISION: String(args.revision) } : {}) },
          },
          registry: args.registry.push,
        },
        { parent: this },
      );
      this.ref = image.repoDigest;
    }
    this.registerOutputs({ ref: this.ref });
  }
}
