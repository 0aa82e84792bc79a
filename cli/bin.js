#!/usr/bin/env node
// The `lithops-aca` command. The package ships TypeScript, so register tsx's loader first,
// then run the command line (cli/main.ts).
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
