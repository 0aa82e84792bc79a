import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cachedRepository, isCacheable, upstreamImage } from "../../components/image-reference.ts";

describe("image references: where a prebuilt image comes from", () => {
  it("splits references as Docker does: Docker Hub by default, library/ for official images, :latest when untagged", () => {
    assert.deepEqual(upstreamImage("node"), { registry: "docker.io", repository: "library/node", suffix: ":latest" });
    assert.deepEqual(upstreamImage("node:20-slim"), { registry: "docker.io", repository: "library/node", suffix: ":20-slim" });
    assert.deepEqual(upstreamImage("bitnami/redis:7"), { registry: "docker.io", repository: "bitnami/redis", suffix: ":7" });
    assert.deepEqual(upstreamImage("mcr.microsoft.com/azure-cli"), { registry: "mcr.microsoft.com", repository: "azure-cli", suffix: ":latest" });
    assert.deepEqual(upstreamImage("localhost:5000/app:v1"), { registry: "localhost:5000", repository: "app", suffix: ":v1" });
    assert.deepEqual(upstreamImage("localhost/app"), { registry: "localhost", repository: "app", suffix: ":latest" });
  });

  it("a digest is kept as the suffix, with or without a tag before it", () => {
    const digest = `@sha256:${"a".repeat(64)}`;
    assert.deepEqual(upstreamImage(`ghcr.io/org/tool${digest}`), { registry: "ghcr.io", repository: "org/tool", suffix: digest });
    assert.deepEqual(upstreamImage(`node:20${digest}`), { registry: "docker.io", repository: "library/node", suffix: digest });
  });

  it("only public registries that Azure's artifact cache can pull from are cacheable, under cache/<host>/<path>", () => {
    assert.equal(isCacheable(upstreamImage("node:20")), true);
    assert.equal(isCacheable(upstreamImage("quay.io/org/x")), true);
    assert.equal(isCacheable(upstreamImage("myregistry.azurecr.io/app")), false);
    assert.equal(cachedRepository(upstreamImage("node:20")), "cache/docker.io/library/node");
  });
});
