// Stands in for Application Insights, which Azurite's telemetry module loads as soon as it is
// required (half a second of CPU) although telemetry is off in the local backend: Azurite is
// started with --disableTelemetry and its telemetry client is never initialized, so nothing
// reads this. local/azurite-server.cjs puts it in Node's module cache; the built server has it
// bundled in its place (tools/build.mjs).
"use strict";
module.exports = new Proxy(
  {},
  {
    get(_, name) {
      throw new Error(`Azurite's telemetry is off in the local backend: Application Insights is not loaded (asked for ${String(name)})`);
    },
  },
);
