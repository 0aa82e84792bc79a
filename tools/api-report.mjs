// The public API as a recorded contract: API Extractor reads the built declarations of each entry point
// (dist/, so run `npm run build` first) and compares them with the reports checked in under api/.
//   node tools/api-report.mjs            check: fails, with the diff, when an export changed (npm run api:check;
//                                        npm test runs it as test/package/api-report.test.ts)
//   node tools/api-report.mjs --update   rewrite the reports (npm run api:update), to commit with the change
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CompilerState, Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const update = process.argv.includes("--update");
const reports = { "lithops-aca": "api/lithops-aca.extractor.json", "lithops-aca/pulumi": "api/lithops-aca-pulumi.extractor.json" };

const configs = Object.entries(reports).map(([entry, file]) => ({ entry, config: ExtractorConfig.loadFileAndPrepare(join(root, file)) }));
// One TypeScript program for every entry point: the declarations they share are read and checked once.
const compilerState = CompilerState.create(configs[0].config, { additionalEntryPoints: configs.map(({ config }) => config.mainEntryPointFilePath) });

const failed = [];
for (const { entry, config } of configs) {
  const result = Extractor.invoke(config, { localBuild: update, compilerState, printApiReportDiff: !update });
  if (result.apiReportChanged && !update)
    failed.push(`${entry}: its exports changed (${relative(root, config.reportFilePath)} no longer matches; the diff is above)`);
  else if (!result.succeeded) failed.push(`${entry}: API Extractor reported ${result.errorCount} errors and ${result.warningCount} warnings (above)`);
}
if (failed.length > 0) {
  console.error(`\nThe public API differs from its recorded report:\n  ${failed.join("\n  ")}`);
  console.error("If the change is on purpose, run `npm run api:update` and commit the api/*.api.md it rewrites.");
  process.exit(1);
}
console.log(update ? "API reports written under api/: review and commit them." : "Public API matches api/*.api.md.");
