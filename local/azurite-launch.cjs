// What the local backend runs to start Azurite (local/azurite.ts's azuriteArgs). In the built
// package it runs azurite-server.cjs bundled (tools/build.mjs) with a V8 code cache kept in
// Azurite's --location folder (the data folder: private to its user), so that a program after
// the first does not compile the emulator again: compiling is most of the CPU of its start.
// From the source tree (tests under tsx) there is no bundle, and it runs azurite-server.cjs.
"use strict";
const { existsSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { join } = require("node:path");
const { Script } = require("node:vm");

const BUNDLE = join(__dirname, "azurite-server.bundle.cjs");
const CACHE_FILE = "lithops-azurite-code-cache";

function location() {
  const at = process.argv.indexOf("--location");
  return at > 0 ? process.argv[at + 1] : undefined;
}

function readCache(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Runs the bundle as a CommonJS module compiled with the cached code. Without a cache V8 could
 * use, one is written as Azurite exits (it then holds every function the run compiled, the
 * request handlers too); a synchronous write of ~2 MB once, when the folder's last program ends.
 */
function runWithCodeCache(cachePath) {
  const cachedData = cachePath ? readCache(cachePath) : undefined;
  // CommonJS's own wrapper, so the bundle sees the variables a required file sees.
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(BUNDLE, "utf8")}\n})`;
  const script = new Script(source, { filename: BUNDLE, cachedData });
  const bundle = { exports: {} };
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, __dirname);
  if (cachePath && (!cachedData || script.cachedDataRejected)) {
    process.once("exit", () => {
      const staging = `${cachePath}.${process.pid}`;
      try {
        writeFileSync(staging, script.createCachedData(), { mode: 0o600 });
        renameSync(staging, cachePath);
      } catch {
        // A cache not written costs the next start its compile time, nothing else.
      }
    });
  }
}

if (existsSync(BUNDLE)) {
  const folder = location();
  runWithCodeCache(folder && existsSync(folder) ? join(folder, CACHE_FILE) : undefined);
} else {
  require("./azurite-server.cjs");
}
