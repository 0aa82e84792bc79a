import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../support/package-paths.ts";

/**
 * The coverage map: every source module is imported by a unit test (test/unit), or is named
 * below with the reason it is tested only by another tier. A new module that is neither
 * fails here; so does a listed module that now has a unit test (take it off the list).
 */
const ROOT = REPO_ROOT;
const LAYERS = ["protocol", "azure", "runtime-model", "client", "worker", "local", "components", "deploy", "cli"];

const ENTRY = "an entry point that re-exports or starts a process: what it exports is tested where it is defined";
const TYPES = "types only: tsc checks them, and test/unit/client-typed.test.ts the client's inferred types";
const PULUMI = "Pulumi resources and programs: tested with Pulumi's mocks and a stand-in pulumi CLI (test/pulumi)";
const CLI = "the command line: its commands run for real in test/local/cli-*.test.ts and test/pulumi/cli-*.test.ts";
const PROCESSES = "starts or stops processes (Azurite, workers, the scaler) or serves on a port: test/local";
const STORAGE = "part of an executor's run over job storage: tested against Azurite and real workers (test/local)";
const WORKER = "runs in a worker's call thread over storage: tested through real workers (test/local)";
const SERIALIZER = "the function serializer: what it captures is recreated in a real worker (test/local/function-serializer.test.ts)";
const ERRORS = "error classes: each is asserted where the tests make it thrown (test/local, test/pulumi)";
const DASHBOARD = "the job dashboard: served and read by its browser test (test/local)";

const END_TO_END: Record<string, string> = {
  "components/index.ts": ENTRY,
  "cli/bin.ts": ENTRY,
  "worker/main.ts": ENTRY,
  "client/function-serializer/index.ts": ENTRY,

  "client/call-types.ts": TYPES,
  "runtime-model/backend.ts": TYPES,
  "protocol/log-markers.ts": "one constant: the worker's log line and the runtime's poison alert both import it, so they cannot disagree",

  "cli/commands.ts": CLI,
  "cli/dashboard.ts": CLI,
  "cli/dashboard-command.ts": CLI,
  "cli/job-cancel.ts": CLI,
  "cli/local-state.ts": CLI,
  "cli/logs.ts": CLI,
  "cli/main.ts": CLI,
  "cli/stack-commands.ts": CLI,
  "cli/errors.ts": ERRORS,

  "components/container-apps.ts": PULUMI,
  "components/environment.ts": PULUMI,
  "components/image-context.ts": PULUMI,
  "components/image.ts": PULUMI,
  "components/instance-names.ts": PULUMI,
  "components/lithops-stack.ts": PULUMI,
  "components/registry.ts": PULUMI,
  "components/roles.ts": PULUMI,
  "components/runtime.ts": PULUMI,
  "components/stack-config.ts": PULUMI,
  "components/storage.ts": PULUMI,
  "components/errors.ts": ERRORS,
  "deploy/inline-program.ts": PULUMI,
  "deploy/job-data.ts": PULUMI,
  "deploy/plans.ts": PULUMI,
  "deploy/pulumi-project.ts": PULUMI,
  "deploy/run-plan.ts": PULUMI,
  "deploy/runtime-changes.ts": PULUMI,
  "deploy/stack-session.ts": PULUMI,
  "deploy/errors.ts": ERRORS,

  "local/data-dir.ts": PROCESSES,
  "local/local-backend.ts": PROCESSES,
  "local/process-end.ts": PROCESSES,
  "local/storage-delay-proxy.ts": PROCESSES,
  "local/temp-folders.ts": PROCESSES,
  "local/worker-scaler.ts": PROCESSES,
  "local/errors.ts": ERRORS,

  "client/auto-deploy.ts": PULUMI,
  "client/azure-backend.ts": STORAGE,
  "client/backend-session.ts": PROCESSES,
  "client/executor.ts": STORAGE,
  "client/job-submission.ts": STORAGE,
  "client/job-attach.ts": STORAGE,
  "client/job-costs.ts": STORAGE,
  "client/job-manifest.ts": STORAGE,
  "client/job-summary.ts": STORAGE,
  "client/logger.ts": "the client's log lines: asserted on a running executor (test/local/call-logs.test.ts)",
  "client/module-wait.ts": STORAGE,
  "client/object-input.ts": STORAGE,
  "client/optional-packages.ts": "loads optional peer packages: tested with and without them installed (test/local/plot.test.ts, test/package)",
  "client/plot-data.ts": STORAGE,
  "client/plot.ts": STORAGE,
  "client/progress.ts": PROCESSES,
  "client/reduce-input.ts": STORAGE,
  "client/retrying-executor.ts": STORAGE,
  "client/returned-futures.ts": STORAGE,
  "client/storage-outage.ts": STORAGE,
  "client/storage.ts": STORAGE,
  "client/wait-loop.ts": STORAGE,
  "runtime-model/storage-account-backend.ts": STORAGE,

  "client/dashboard/live-source.ts": DASHBOARD,
  "client/dashboard/page.ts": DASHBOARD,
  "client/dashboard/server.ts": DASHBOARD,
  "client/dashboard/snapshot.ts": DASHBOARD,
  "client/dashboard/source.ts": DASHBOARD,
  "client/dashboard/storage-source.ts": DASHBOARD,

  "client/function-serializer/context-tree.ts": SERIALIZER,
  "client/function-serializer/function-source.ts": SERIALIZER,
  "client/function-serializer/known-values.ts": SERIALIZER,
  "client/function-serializer/module-builder.ts": SERIALIZER,
  "client/function-serializer/module-text.ts": SERIALIZER,
  "client/function-serializer/scope-inspector.ts": SERIALIZER,
  "client/function-serializer/source-tokens.ts": SERIALIZER,
  "client/function-serializer/unshippable.ts": SERIALIZER,

  "worker/call-results.ts": WORKER,
  "worker/call-thread.ts": WORKER,
  "worker/load-function.ts": WORKER,
  "worker/object-part.ts": WORKER,
  "worker/revive-refs.ts": WORKER,
  "worker/runtime-metadata.ts": WORKER,
  "worker/thread-messages.ts": WORKER,
  "worker/cancel-watch.ts":
    "reads a job's cancel marker from blob storage before and while a batch runs: tested through real workers (test/local/cancel.test.ts)",
  "worker/call-children.ts": PROCESSES,
  "worker/child-spawns.ts": PROCESSES,
  "worker/process-tree.ts": PROCESSES,
  "worker/errors.ts": ERRORS,
};

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const modules = LAYERS.flatMap((layer) => sourceFiles(join(ROOT, layer))).map((path) => relative(ROOT, path));

/** Each unit test file and what it imports: repository paths for relative imports, specifiers as written otherwise. */
const unitImports = new Map(
  sourceFiles(join(ROOT, "test/unit"))
    .filter((path) => path.endsWith(".test.ts"))
    .map((path) => [
      relative(ROOT, path),
      ts
        .preProcessFile(readFileSync(path, "utf8"), true, true)
        .importedFiles.map(({ fileName }) => (fileName.startsWith(".") ? relative(ROOT, resolve(dirname(path), fileName)) : fileName)),
    ]),
);
const unitTested = new Set([...unitImports.values()].flat());

/** What starts processes or threads, or the local backend that does: the unit tier runs none of it (test/local does). */
const STARTS_PROCESSES = [
  "node:child_process",
  "child_process",
  "node:worker_threads",
  "worker_threads",
  "local/local-backend.ts",
  "test/support/processes.ts",
];

describe("coverage map: each source module has a unit test or a stated reason", () => {
  it("every module is imported by a unit test or listed with the tier that tests it", () => {
    const neither = modules.filter((module) => !unitTested.has(module) && !(module in END_TO_END));
    assert.deepEqual(
      neither,
      [],
      `write a unit test (test/unit/<module>.test.ts) for these, or add them to END_TO_END in test/unit/coverage.test.ts with the reason`,
    );
  });

  it("no unit test imports what starts a process or thread", () => {
    const starting = [...unitImports].flatMap(([file, imports]) => imports.filter((name) => STARTS_PROCESSES.includes(name)).map((name) => `${file}: ${name}`));
    assert.deepEqual(starting, [], "a test that starts processes belongs in test/local");
  });

  it("the list names only modules that exist and have no unit test", () => {
    const stale = Object.keys(END_TO_END).filter((module) => !modules.includes(module));
    assert.deepEqual(stale, [], "listed modules that no longer exist: take them off END_TO_END");
    const tested = Object.keys(END_TO_END).filter((module) => unitTested.has(module));
    assert.deepEqual(tested, [], "listed modules that a unit test now imports: take them off END_TO_END");
  });
});
