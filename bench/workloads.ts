/**
 * The functions the benchmarks run. Each is self-contained (no captured values), so the
 * same source runs in a worker (shipped by the executor) and in the in-process pool.
 */
import type { ExecutorOptions } from "../client/config.ts";

export const noop = (x: number): number => x;

export const addSeven = (x: number): number => x + 7;

/** Pure arithmetic, `iterations` steps: the CPU-bound call. */
export const spin = (iterations: number): number => {
  let x = 1;
  for (let i = 0; i < iterations; i += 1) x = (x * 1103515245 + 12345 + i) % 2147483647;
  return x;
};

/** Takes a buffer and returns one of the same size (each byte flipped), so data crosses both ways. */
export const flipBytes = (data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 1) out[i] = data[i] ^ 0xff;
  return out;
};

/** Word counts of a text: the map side of a word count. */
export const countWords = (text: string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const word of text.split(/\s+/)) {
    if (word.length > 0) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
};

export function mergeCounts(parts: Iterable<Map<string, number>>): Map<string, number> {
  const total = new Map<string, number>();
  for (const part of parts) for (const [word, n] of part) total.set(word, (total.get(word) ?? 0) + n);
  return total;
}

/** Iterations of `spin` that take about `targetMs` on this machine (measured on this thread, JIT warm). */
export function calibrateSpin(targetMs: number): number {
  let iterations = 100_000;
  spin(iterations);
  for (;;) {
    const started = performance.now();
    spin(iterations);
    const elapsed = performance.now() - started;
    if (elapsed >= 20) {
      const scaled = Math.round((iterations * targetMs) / elapsed);
      // One check at the scaled size, since short runs are dominated by noise.
      const check = performance.now();
      spin(scaled);
      return Math.round((scaled * targetMs) / (performance.now() - check));
    }
    iterations *= 4;
  }
}

/** Deterministic text of whole lines, `bytes` long or a little less, from a 1,000-word vocabulary. */
export function makeText(bytes: number, seed = 7): { text: Buffer; words: number } {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const vocabulary = Array.from({ length: 1000 }, () => {
    const length = 2 + Math.floor(random() * 9);
    let word = "";
    for (let i = 0; i < length; i += 1) word += String.fromCharCode(97 + Math.floor(random() * 26));
    return word;
  });
  const lines: string[] = [];
  let size = 0;
  let words = 0;
  for (;;) {
    const count = 8 + Math.floor(random() * 8);
    const line = `${Array.from({ length: count }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(" ")}\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
    words += count;
  }
  return { text: Buffer.from(lines.join(""), "latin1"), words };
}

/** The executor every benchmark uses: local backend, 2 workers of 1 call each, nothing from a user config. */
export function benchOptions(extra: ExecutorOptions = {}): ExecutorOptions {
  return {
    backend: "local",
    maxWorkers: 2,
    workerProcesses: 1,
    progress: false,
    logLevel: "WARNING",
    config: { local: { cooldown: 120 } },
    ...extra,
  };
}
