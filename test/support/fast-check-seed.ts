import fc from "fast-check";

/**
 * Preloaded by `npm test`: property tests run from a fixed seed, so a CI run is
 * repeatable. LITHOPS_FUZZ_SEED=random (or another number) explores other inputs; the
 * long fuzz runs (LITHOPS_LONG_TESTS=1, bench/reliability.ts) use random seeds.
 */
const DEFAULT_SEED = 20_261_127;
const setting = process.env.LITHOPS_FUZZ_SEED;
if (setting !== "random" && process.env.LITHOPS_LONG_TESTS !== "1") {
  const seed = setting === undefined ? DEFAULT_SEED : Number(setting);
  if (!Number.isInteger(seed)) throw new Error(`LITHOPS_FUZZ_SEED: ${JSON.stringify(setting)} is not an integer or 'random'`);
  fc.configureGlobal({ seed });
}
