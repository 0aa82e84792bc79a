/**
 * Where a prebuilt image comes from, so the stack's registry can serve it through an
 * ACR cache rule instead of every replica pulling it from a public registry.
 */

/** Upstream registries an ACR cache rule can pull from (Azure's artifact cache). */
export const CACHEABLE_REGISTRIES = ["docker.io", "mcr.microsoft.com", "ghcr.io", "quay.io", "registry.k8s.io", "public.ecr.aws", "gcr.io"] as const;

/** Repositories the stack's registry serves from a cache rule live under this prefix, apart from the images it builds. */
const CACHE_PREFIX = "cache";

export interface UpstreamImage {
  /** Registry host, `docker.io` for Docker Hub names without one. */
  registry: string;
  /** Repository path on that registry, `library/node` for Docker Hub's official images. */
  repository: string;
  /** `:tag` or `@sha256:...`; `:latest` when the reference names neither. */
  suffix: string;
}

/** Splits an image reference the way Docker does: a first segment with a '.' or ':' (or `localhost`) is a registry host. */
export function upstreamImage(reference: string): UpstreamImage {
  const at = reference.indexOf("@");
  const withoutDigest = at >= 0 ? reference.slice(0, at) : reference;
  const colon = withoutDigest.lastIndexOf(":");
  const hasTag = colon > withoutDigest.lastIndexOf("/");
  const name = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const suffix = at >= 0 ? reference.slice(at) : hasTag ? withoutDigest.slice(colon) : ":latest";
  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  if (first && (first.includes(".") || first.includes(":") || first === "localhost")) {
    return { registry: first, repository: name.slice(slash + 1), suffix };
  }
  return { registry: "docker.io", repository: slash >= 0 ? name : `library/${name}`, suffix };
}

export function isCacheable(image: UpstreamImage): boolean {
  return (CACHEABLE_REGISTRIES as readonly string[]).includes(image.registry);
}

/** The repository a cache rule gives the image in the stack's registry: `cache/<upstream host>/<path>`. */
export function cachedRepository(image: UpstreamImage): string {
  return `${CACHE_PREFIX}/${image.registry}/${image.repository}`;
}
