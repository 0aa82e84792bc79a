/**
 * Another process on the same local data folder (the parent's LITHOPS_LOCAL_DATA_DIR), for
 * test/local/shared-storage.test.ts. By argv[2]:
 * - "put KEY TEXT": puts an object with `new Storage()` (no executor) and prints its bucket;
 * - "map N": maps x => x * 2 over 0..N-1 and prints the results and Azurite's blob port.
 */
import { Storage } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { testExecutor } from "./executor.ts";

const [mode, ...args] = process.argv.slice(2);
if (mode === "put") {
  const [key, text] = args;
  await using storage = new Storage();
  await storage.putObject(storage.bucket, key!, text!);
  process.stdout.write(`${JSON.stringify({ bucket: storage.bucket })}\n`);
} else {
  const fexec = testExecutor();
  try {
    const futures = await fexec.map(
      async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return x * 2;
      },
      Array.from({ length: Number(args[0]) }, (_, i) => i),
    );
    const results = await fexec.getResult(futures);
    const { blobPort } = ((await fexec.backend()) as LocalBackend).azuriteEndpoints!;
    process.stdout.write(`${JSON.stringify({ results, blobPort })}\n`);
  } finally {
    await fexec.close();
  }
}
