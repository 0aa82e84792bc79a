import { createHash } from "node:crypto";

/**
 * Names of the stack's shared resources. Storage account and registry names are global
 * in Azure (3-24 / 5-50 lower case letters and digits), so they carry a hash of where
 * the stack lives, like ARM's uniqueString(): stable across runs, different per stack.
 */
export function uniqueSuffix(...parts: string[]): string {
  return createHash("sha256").update(parts.join("|")).digest("hex").slice(0, 13);
}

export function storageAccountName(suffix: string): string {
  return `lithops${suffix}`;
}

export function registryName(suffix: string): string {
  return `lithops${suffix}`;
}

/** Container Apps environment: 2-60 lower case letters, digits and hyphens, starting with a letter. */
export function environmentName(stack: string): string {
  const slug = stack
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `lithops-${slug}`.slice(0, 60).replace(/-+$/, "");
}
