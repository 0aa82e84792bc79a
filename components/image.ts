import { join, resolve } from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { stageImageContext } from "./image-context.ts";
import type { RuntimeRegistry } from "./registry.ts";
import type { ImageSource } from "./stack-config.ts";

/** Container Apps run linux/amd64, whatever machine runs `pulumi up`. */
const IMAGE_PLATFORM = "linux/amd64";
/** Build contexts are staged here, inside the Pulumi project (never inside node_modules). */
const STAGING_DIR = ".lithops-aca/build";

export interface RuntimeImageArgs {
  source: ImageSource;
  /** Where built images are pushed; not needed for a prebuilt image. */
  registry?: RuntimeRegistry;
  /** Node.js major of the image (the default runtime follows the deploying machine's). */
  nodeMajor: number;
  /** The runtime's `revision`: above 0 it is passed as build arg LITHOPS_REVISION, so a new value rebuilds the image. */
  revision?: number;
  /** The Pulumi project's root: Dockerfile paths are relative to it, and contexts are staged under it. */
  projectRoot: string;
}

/**
 * The image a runtime runs: the runtime's Dockerfile with the worker layer added, built
 * from a staged context that holds only the Dockerfile's folder and the worker bundle,
 * and pushed; or a prebuilt image, served through the stack's ACR (a cache rule) when it
 * has one. `ref` is the pushed digest, so a changed image gives the Container App a new
 * revision even when the tag stays the same.
 */
export class RuntimeImage extends pulumi.ComponentResource {
  readonly ref: pulumi.Output<string>;
  /** sha256 of the staged build context; undefined for a prebuilt image. */
  readonly contextDigest?: string;

  constructor(name: string, args: RuntimeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lithops-aca:index:RuntimeImage", name, {}, opts);
    const { source } = args;
    if (source.kind === "prebuilt") {
      this.ref = args.registry ? args.registry.cached(source.image) : pulumi.output(source.image);
    } else {
      if (!args.registry) throw new Error(`image ${name}: building ${source.dockerfile} needs a registry to push to`);
      const staged = stageImageContext(resolve(args.projectRoot, source.dockerfile), join(args.projectRoot, STAGING_DIR), name);
      this.contextDigest = staged.digest;
      const imageName = args.registry.imageName(source.repository, source.tag);
      const image = new docker.Image(
        `${name}-build`,
        {
          imageName,
          build: {
            context: staged.dir,
            dockerfile: staged.dockerfile,
            platform: IMAGE_PLATFORM,
            builderVersion: docker.BuilderVersion.BuilderBuildKit,
            // The pushed image carries its layer cache, so a runner without local layers reuses them.
            cacheFrom: { images: [imageName] },
            args: {
              NODE_MAJOR: String(args.nodeMajor),
              BUILDKIT_INLINE_CACHE: "1",
              LITHOPS_CONTEXT_DIGEST: staged.digest,
              ...(args.revision ? { LITHOPS_REVISION: String(args.revision) } : {}),
            },
          },
          registry: args.registry.push,
          // A preview only reads: nothing is built or pushed.
          buildOnPreview: false,
        },
        // Built after the apps' pull grant exists, so the grant has the build's time to apply.
        { parent: this, dependsOn: args.registry.pull.kind === "identity" ? [args.registry.pull.grant] : [] },
      );
      this.ref = image.repoDigest;
    }
    this.registerOutputs({ ref: this.ref });
  }
}
