// The provider Pulumi runs (`runtime: nodejs` in PulumiPlugin.yaml): the package's real
// components, under the type tokens they register (`lithops-aca:index:...`). The schema comes
// from index.ts beside this file, which Pulumi's analyzer reads.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { componentProviderHost } = require("@pulumi/pulumi/provider/experimental");
const { LithopsRuntime, LithopsStack } = require("../dist/components/index.js");

const { version } = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8"));

module.exports = componentProviderHost({ name: "lithops-aca", dirname: __dirname, version, components: [LithopsStack, LithopsRuntime] });
