import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SHARE_ENV, Worker } from "node:worker_threads";
import { type MockResource, type ProgramRun, reveal, type Scenario } from "./pulumi-mock-azure.ts";
import { REPO_ROOT, repoPath, runningModule } from "./package-paths.ts";

export {
  ACR_AUDIENCE_TOKEN,
  ACR_REFRESH_TOKEN,
  ARM_TOKEN,
  DEPLOYER,
  isSecretValue,
  type MockResource,
  type ProgramRun,
  reveal,
  type Scenario,
  SECRET_SIG,
  SUBSCRIPTION,
  TENANT,
} from "./pulumi-mock-azure.ts";

/**
 * Runs Pulumi programs under mocks for the tests (pulumi-program-run.ts does the run).
 *
 * Programs given as modules run in one worker thread per test file: node:test's harness
 * (Node 20) installs an async hook in the main thread that tracks every async resource,
 * and a mocked run makes hundreds of thousands of promises, so in the main thread the
 * hook cost more CPU than the runs. Async hooks are per thread. A scenario runs once per
 * file (runs are deterministic; each caller gets its own copy) unless a test asks for a
 * fresh run.
 */

export interface RunOptions {
  /** Run again even if this file ran the same scenario before (for tests that compare two runs of one config). */
  fresh?: boolean;
}

type ThreadReply = { id: number; run: ProgramRun } | { id: number; error: { name: string; message: string; stack?: string } };

/** A worker thread that runs one scenario at a time (pulumi-program-thread.mjs). */
class ProgramThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (run: ProgramRun) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  /** Set once the thread died: the next run gets a new one. */
  retired = false;
  /** What crashed the thread while no run was waiting (work a run left behind): the next run fails with it. */
  lostError: Error | undefined;

  constructor() {
    this.worker = new Worker(repoPath("test/support/pulumi-program-thread.mjs"), {
      // Shares process.env, so a run sees what a test set, as it did in the main thread.
      env: SHARE_ENV,
      // Not the test runner's flags: the thread registers tsx itself if it runs the sources.
      execArgv: [],
      workerData: { programRun: pathToFileURL(runningModule("test/support/pulumi-program-run")).href },
      // A run's promises die young: a larger young generation scavenges less often (64 MB: a tenth less CPU
      // than the default; 128 MB another tenth).
      resourceLimits: { maxYoungGenerationSizeMb: 128 },
    });
    this.worker.on("message", (reply: ThreadReply) => this.settle(reply));
    this.worker.on("error", (error) => {
      if (this.pending.size === 0) this.lostError = error;
      this.failAll(error);
    });
    this.worker.on("exit", (code) => this.failAll(new Error(`the Pulumi program thread exited with code ${code}`)));
  }

  run(scenario: Scenario): Promise<ProgramRun> {
    const id = this.nextId++;
    this.worker.ref();
    this.worker.postMessage({ id, scenario });
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private settle(reply: ThreadReply): void {
    const waiter = this.pending.get(reply.id)!;
    this.pending.delete(reply.id);
    if ("error" in reply) waiter.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }));
    else waiter.resolve(reply.run);
    // The thread keeps the process alive only while a test waits for it.
    if (this.pending.size === 0) this.worker.unref();
  }

  private failAll(error: Error): void {
    this.retired = true;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

let thread: ProgramThread | undefined;

function runInThread(scenario: Scenario): Promise<ProgramRun> {
  const lost = thread?.lostError;
  if (lost) {
    thread = undefined;
    return Promise.reject(lost);
  }
  if (!thread || thread.retired) thread = new ProgramThread();
  return thread.run(scenario);
}

/** Runs a scenario in this thread; loads Pulumi here only for the tests that need it. */
async function runHere(scenario: Scenario): Promise<ProgramRun> {
  const { runProgramHere } = await import("./pulumi-program-run.ts");
  return runProgramHere(scenario);
}

const runsOfScenario = new Map<string, Promise<ProgramRun>>();

/**
 * Runs a scenario and returns what the program declared and output. An `inline` program
 * (a function) runs in this thread: functions do not cross to another thread.
 */
export async function runProgram(scenario: Scenario = {}, options: RunOptions = {}): Promise<ProgramRun> {
  if (scenario.inline) return runHere(scenario);
  if (options.fresh) return runInThread(scenario);
  const key = JSON.stringify(scenario);
  let run = runsOfScenario.get(key);
  if (!run) {
    run = runInThread(scenario);
    runsOfScenario.set(key, run);
    // A failed run is not kept: the next caller sees its own failure.
    run.catch(() => runsOfScenario.delete(key));
  }
  return structuredClone(await run);
}

/**
 * The error a config makes the program throw (fails the test if it loads). Runs in this
 * thread, so the error keeps its class (an error crosses threads as a plain Error).
 */
export async function programError(scenario: Scenario): Promise<Error> {
  try {
    await runHere(scenario);
  } catch (error) {
    return error as Error;
  }
  throw new Error("the program accepted the configuration");
}

/**
 * A resource's kind: its Pulumi type token, or for a generic ARM resource its ARM type
 * (`Microsoft.App/containerApps`: the Container Apps resources are declared that way).
 */
export const kindOf = (r: MockResource): string =>
  r.type === "azure-native:resources:Resource" ? `${r.inputs.resourceProviderNamespace}/${r.inputs.resourceType}` : r.type;

/** The ARM properties of a generic resource (a Container App's `configuration`, `template`, ...), secrets revealed. */
export const armProperties = (r: MockResource): Record<string, any> => reveal(r.inputs.properties);

export const ofType = (run: ProgramRun, kind: string) => run.resources.filter((r) => kindOf(r) === kind);
export const named = (run: ProgramRun, name: string) => {
  const found = run.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${run.resources.map((r) => r.name).join(", ")}`);
  return found;
};

/**
 * The docker Image built from a Dockerfile (a path from the repository root): images are
 * built from a staged copy whose Dockerfile is the original text plus the worker layer.
 */
export function imageBuiltFrom(run: ProgramRun, dockerfile: string): MockResource {
  const original = readFileSync(resolve(REPO_ROOT, dockerfile), "utf8").trimEnd();
  const image = run.resources.find((r) => r.type === "docker:index/image:Image" && readFileSync(r.inputs.build.dockerfile, "utf8").startsWith(original));
  if (!image) throw new Error(`no image is built from ${dockerfile}`);
  return image;
}
