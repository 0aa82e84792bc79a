import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { PRECEDENCE, resolveConfig } from "../../client/config.ts";
import { executorOptionsSchema, type OptionDoc } from "../../client/options.ts";
import { DEFAULT_MAX_WORKERS } from "../../runtime-model/defaults.ts";
import { repoPath } from "../support/package-paths.ts";

/**
 * docs/configuration.md shows the option schema's docs and defaults and the precedence
 * table as the code has them; and the table is the order resolveConfig follows.
 */

const DOC = readFileSync(repoPath("docs/configuration.md"), "utf8");
const README = readFileSync(repoPath("README.md"), "utf8");

const optionDoc = (name: keyof typeof executorOptionsSchema.shape): OptionDoc => executorOptionsSchema.shape[name].meta() as unknown as OptionDoc;

describe("docs/configuration.md", () => {
  it("lists every option of new FunctionExecutor with its doc and default from the schema", () => {
    for (const name of Object.keys(executorOptionsSchema.shape) as (keyof typeof executorOptionsSchema.shape)[]) {
      const { doc, default: byDefault } = optionDoc(name);
      assert.ok(doc && byDefault, `option ${name} has a doc and a default`);
      const row = `| \`${name}\` | ${doc} | ${byDefault} |`;
      assert.ok(DOC.includes(row), `docs/configuration.md lacks the row\n${row}`);
    }
  });

  it("shows PRECEDENCE, setting by setting, in the code's order", () => {
    for (const [setting, sources] of Object.entries(PRECEDENCE)) {
      const row = `| \`${setting}\` | ${sources.map((source) => (source.on ? `${source.from} [${source.on} only]` : source.from)).join(" > ")} |`;
      assert.ok(DOC.includes(row), `docs/configuration.md lacks the row\n${row}`);
    }
  });

  it("is linked from the README's Configuration section", () => {
    const section = README.slice(README.indexOf("## Configuration"), README.indexOf("\n## ", README.indexOf("## Configuration") + 1));
    assert.match(section, /\(docs\/configuration\.md\)/);
  });
});

describe("PRECEDENCE is what resolveConfig does", () => {
  const resolve = (options: Parameters<typeof resolveConfig>[0]) => resolveConfig({ logLevel: "ERROR", ...options }, {});
  const azure = { azure_storage: { storage_account_name: "acct1" } };

  it("maxWorkers on local: option > local.max_workers > localhost.worker_processes > lithops.workers > CPUs", () => {
    const file = { local: { max_workers: 2 }, localhost: { worker_processes: 3 }, lithops: { workers: 4 }, azure_containers: { max_workers: 9 } };
    assert.equal(resolve({ maxWorkers: 1, config: file }).maxWorkers, 1);
    assert.equal(resolve({ config: file }).maxWorkers, 2);
    assert.equal(resolve({ config: { ...file, local: {} } }).maxWorkers, 3);
    assert.equal(resolve({ config: { lithops: { workers: 4 } } }).maxWorkers, 4);
    assert.equal(resolve({ config: {} }).maxWorkers, availableParallelism());
  });

  it("maxWorkers on azure_containers: option > azure_containers.max_workers > lithops.workers > the default; the local keys do not count", () => {
    const file = { ...azure, lithops: { backend: "azure_containers", workers: 4 }, local: { max_workers: 2 }, localhost: { worker_processes: 3 } } as const;
    assert.equal(resolve({ maxWorkers: 1, config: file }).maxWorkers, 1);
    assert.equal(resolve({ config: { ...file, azure_containers: { max_workers: 9 } } }).maxWorkers, 9);
    assert.equal(resolve({ config: file }).maxWorkers, 4);
    assert.equal(resolve({ config: { ...file, lithops: { backend: "azure_containers" } } }).maxWorkers, DEFAULT_MAX_WORKERS);
    assert.match(optionDoc("maxWorkers").default, new RegExp(`${DEFAULT_MAX_WORKERS} \\(azure_containers\\)`));
  });

  it("runtimeTimeout and workerProcesses come from the section of the backend in use", () => {
    const file = { ...azure, local: { runtime_timeout: 30, worker_processes: 2 }, azure_containers: { runtime_timeout: 60, worker_processes: 3 } };
    assert.deepEqual([resolve({ config: file }).runtimeTimeout, resolve({ config: file }).workerProcesses], [30, 2]);
    const onAzure = resolve({ backend: "azure_containers", config: file });
    assert.deepEqual([onAzure.runtimeTimeout, onAzure.workerProcesses], [60, 3]);
  });

  it("backend: option > lithops.backend > lithops.mode > stack option > local; the documented defaults hold", () => {
    assert.equal(resolve({ backend: "local", config: { ...azure, lithops: { backend: "azure_containers" } } }).backend, "local");
    assert.equal(resolve({ config: { ...azure, lithops: { mode: "serverless" } } }).backend, "azure_containers");
    assert.equal(resolve({ stack: "dev", config: {} }).backend, "azure_containers");
    const defaults = resolve({ config: {} });
    assert.equal(defaults.backend, "local");
    assert.equal(`'${defaults.runtime}'`, optionDoc("runtime").default);
    assert.equal(String(defaults.runtimeMemory), optionDoc("runtimeMemory").default);
    assert.equal(String(defaults.runtimeTimeout), optionDoc("runtimeTimeout").default);
    assert.equal(String(defaults.workerProcesses), optionDoc("workerProcesses").default);
    assert.equal(String(defaults.progress), optionDoc("progress").default);
    assert.equal(String(defaults.autoDeploy), optionDoc("autoDeploy").default);
    assert.equal(`'${resolveConfig({ config: {} }, {}).logLevel}'`, optionDoc("logLevel").default);
  });
});
