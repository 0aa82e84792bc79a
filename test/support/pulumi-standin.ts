import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { repoPath } from "./package-paths.ts";

/**
 * A stand-in for the `pulumi` CLI, for tests on machines without it: an executable placed
 * first on PATH that records every invocation and answers the calls the Automation API makes
 * (`version`, `stack select|init|ls|output|history`, `config get|set-all|rm-all`, `up`,
 * `destroy`) the way the real CLI does: same arguments, same JSON shapes, the same error lines
 * on stderr and a non-zero exit code (pulumi-standin-cli.cjs). The stack's config and outputs
 * live in a JSON state file the test reads and writes. It runs no program: `up` derives the
 * outputs from the config (or takes `upOutputs`), which is what only a real CLI can do for real.
 */

export interface StandInStack {
  /** Config values by full key; structured values (the runtimes list) as objects. */
  config: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** Output names printed as "[secret]" without --show-secrets. */
  secretOutputs?: string[];
}

export interface StandInState {
  version: string;
  /** The selected stack (`pulumi stack select`), if any. */
  current: string | null;
  loggedIn: boolean;
  stacks: Record<string, StandInStack>;
  /** When set, `up` fails with this error line (e.g. an Azure login failure). */
  failUp?: string | null;
  /** Outputs `up` sets besides the derived ones (e.g. clientConfig). */
  upOutputs?: Record<string, unknown> | null;
  /** An .mjs module whose default export `up` awaits with (state, stackName): tests make side effects with it. */
  upHook?: string | null;
}

export interface StandInCall {
  args: string[];
  cwd: string;
}

const STAND_IN_CLI = repoPath("test/support/pulumi-standin-cli.cjs");

interface StandInAnswer {
  code: number;
  stdout: string;
  stderr: string;
}
type Answer = (dir: string, args: string[], cwd: string) => Promise<StandInAnswer>;

/**
 * The served stand-in's executable: bash hands its folder, argument count and arguments
 * (NUL-terminated) to the test process over loopback TCP and prints the answer (exit code,
 * stdout, stderr, NUL-terminated). Its physical folder, as node's process.cwd() gives it.
 */
const servedScript = (port: number) => `#!/bin/bash
cd -P . || exit 255
exec 3<>/dev/tcp/127.0.0.1/${port} || exit 255
printf '%s\\0' "$PWD" "$#" "$@" >&3
IFS= read -r -d '' code <&3 && IFS= read -r -d '' out <&3 && IFS= read -r -d '' err <&3 || exit 255
printf '%s' "$out"
printf '%s' "$err" >&2
exit "$code"
`;

/** Reads one invocation (folder, argument count, arguments) off a served stand-in's connection, answers it and closes. */
function serveInvocation(socket: Socket, dir: string, answer: Answer): void {
  let received = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const fields = received.toString("utf8").split("\0");
    const argc = Number(fields[1]);
    // Complete once the folder, the count and every argument arrived, each ended by a NUL.
    if (fields.length < 3 || fields.length - 1 < 2 + argc) return;
    socket.removeAllListeners("data");
    void answer(dir, fields.slice(2, 2 + argc), fields[0]!).then(
      ({ code, stdout, stderr }) => socket.end(`${code}\0${stdout}\0${stderr}\0`),
      (error: unknown) => socket.end(`255\0\0error: ${String(error)}\n\0`),
    );
  });
  socket.on("error", () => socket.destroy());
}

export class PulumiStandIn {
  readonly dir: string;
  private server: Server | undefined;

  /**
   * A stand-in that is its own node process at each call: for tests that wait for the CLI
   * synchronously (spawnSync), which would leave a served stand-in unanswered.
   */
  constructor(state: Partial<StandInState> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "pulumi-standin-"));
    this.install(`#!${process.execPath}\nrequire(${JSON.stringify(STAND_IN_CLI)}).main(__dirname);\n`);
    this.write({ version: "3.190.0", current: null, loggedIn: true, stacks: {}, ...state });
    writeFileSync(join(this.dir, "calls.jsonl"), "");
  }

  /**
   * A stand-in whose calls this process answers: each call is still a process of its own that
   * the CLI starts, passes arguments and reads output and exit code from, but a bash one, since
   * starting node cost each call 40-140 ms of CPU (bash: about 2 ms). The test must leave this
   * process's event loop free while the CLI runs (await it, no spawnSync).
   */
  static async served(state: Partial<StandInState> = {}): Promise<PulumiStandIn> {
    const standIn = new PulumiStandIn(state);
    const { answer } = createRequire(STAND_IN_CLI)(STAND_IN_CLI) as { answer: Answer };
    const server = createServer((socket) => serveInvocation(socket, standIn.dir, answer));
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    // Open connections keep the process alive while a call runs; the server itself does not.
    server.unref();
    standIn.server = server;
    standIn.install(servedScript((server.address() as { port: number }).port));
    return standIn;
  }

  private install(script: string): void {
    const path = join(this.dir, "pulumi");
    writeFileSync(path, script);
    chmodSync(path, 0o755);
  }

  /** PATH with the stand-in first. */
  path(base = process.env.PATH ?? ""): string {
    return `${this.dir}${delimiter}${base}`;
  }

  state(): StandInState {
    return JSON.parse(readFileSync(join(this.dir, "state.json"), "utf8")) as StandInState;
  }

  write(state: StandInState): void {
    writeFileSync(join(this.dir, "state.json"), JSON.stringify(state, null, 2));
  }

  update(change: (state: StandInState) => void): void {
    const state = this.state();
    change(state);
    this.write(state);
  }

  calls(): StandInCall[] {
    return readFileSync(join(this.dir, "calls.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as StandInCall);
  }

  /** Forgets the calls so far. */
  resetCalls(): void {
    writeFileSync(join(this.dir, "calls.jsonl"), "");
  }

  remove(): void {
    this.server?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
