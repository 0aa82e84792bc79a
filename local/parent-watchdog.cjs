// Preloaded (node --require) into the processes the local backend starts: Azurite and the
// workers. When the client process dies without closing its executor (SIGKILL, crash), the
// IPC channel to it closes and this process stops itself with SIGTERM (workers release
// their calls, Azurite flushes its data), instead of running on as an orphan.
"use strict";
if (typeof process.send === "function" && process.channel) {
  process.channel.unref();
  process.once("disconnect", () => {
    process.kill(process.pid, "SIGTERM");
  });
}
