// Preloaded (node --require) into the processes the local backend starts, so that none of
// them outlives the programs it serves, even when those are killed with SIGKILL:
// - a worker or a private Azurite (a child with an IPC channel): when the client process
//   dies, the channel closes; this process then stops itself with SIGTERM (a worker hands
//   back the messages it has not started) and, as nobody is left to collect what it would
//   finish, is killed outright if it has not exited within STOP_WITHIN_MS;
// - the Azurite shared by the processes using a data folder (local/data-dir.ts, which sets
//   LITHOPS_SHARED_AZURITE): it stops when no live process holds a lease on the folder any
//   more, and removes its record (azurite.json) when it exits.
"use strict";
const fs = require("node:fs");

const STOP_WITHIN_MS = 1000;
const LEASE_CHECK_MS = 200;

// As local/process-end.ts's processAlive: a zombie (ended, not yet reaped) is not alive.
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return true;
  }
}

function stopSelf() {
  setTimeout(() => process.kill(process.pid, "SIGKILL"), STOP_WITHIN_MS).unref();
  process.kill(process.pid, "SIGTERM");
}

if (typeof process.send === "function" && process.channel) {
  process.channel.unref();
  process.once("disconnect", stopSelf);
}

const shared = process.env.LITHOPS_SHARED_AZURITE;
if (shared) {
  const { leases, record } = JSON.parse(shared);

  const liveLeases = () => {
    let names;
    try {
      names = fs.readdirSync(leases);
    } catch {
      return 0; // the folder was removed: nobody can be using it
    }
    let live = 0;
    for (const name of names) {
      if (alive(Number(name))) live += 1;
      else fs.rmSync(`${leases}/${name}`, { force: true });
    }
    return live;
  };
  const ownRecord = () => {
    try {
      const current = JSON.parse(fs.readFileSync(record, "utf8"));
      return current.pid === process.pid ? current : undefined;
    } catch {
      return undefined;
    }
  };
  const writeRecord = (value) => {
    const staging = `${record}.${process.pid}`;
    fs.writeFileSync(staging, JSON.stringify(value));
    fs.renameSync(staging, record);
  };

  const timer = setInterval(() => {
    if (liveLeases() > 0) return;
    // Say "stopping" before looking again: a process that took a lease meanwhile either is
    // seen now (and we go on serving) or reads "stopping" and waits for a new Azurite.
    const current = ownRecord();
    if (current) writeRecord({ ...current, state: "stopping" });
    if (liveLeases() > 0) {
      if (current) writeRecord(current);
      return;
    }
    clearInterval(timer);
    // Azurite closes its servers and saves its data on SIGTERM; the timer is a last resort.
    setTimeout(() => process.exit(0), 10_000).unref();
    process.kill(process.pid, "SIGTERM");
  }, LEASE_CHECK_MS);
  timer.unref();

  process.on("exit", () => {
    if (ownRecord()) fs.rmSync(record, { force: true });
  });
}
