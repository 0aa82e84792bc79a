#!/usr/bin/env node
// The `lithops-aca` command: plain Node runs the built JavaScript (dist/cli/bin.js).
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
