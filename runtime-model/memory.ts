import { InvalidMemoryError } from "./errors.ts";
import { z } from "zod";

/**
 * Lithops's memory -> vCPU table for Azure Container Apps: 0.25 vCPU per 512 MB, from
 * 512 MB up to 8192 MB. Container Apps only accept these cpu/memory pairs; above
 * 2 vCPU / 4 GiB (4608 MB and up) a workload-profiles environment is needed.
 */
export const MEMORY_TABLE: ReadonlyMap<number, number> = new Map(Array.from({ length: 16 }, (_, i) => [512 * (i + 1), 0.25 * (i + 1)]));

export const DEFAULT_MEMORY_MB = 512;

/** Largest memory the Consumption profile takes; larger values need a dedicated workload profile. */
export const CONSUMPTION_MAX_MEMORY_MB = 4096;

export const ALLOWED_MEMORY_MB: readonly number[] = [...MEMORY_TABLE.keys()];

function notASize(memoryMb: unknown): string {
  return `${JSON.stringify(memoryMb)} MB is not an Azure Container Apps size; use one of ${ALLOWED_MEMORY_MB.join(", ")} (MB)`;
}

/** A memory size of the table, for option schemas: the same message as cpuForMemory's. */
export const memorySchema = z
  .number()
  .refine((memoryMb) => MEMORY_TABLE.has(memoryMb), { error: (issue) => notASize(issue.input) })
  .meta({ valid: `one of ${ALLOWED_MEMORY_MB.join(", ")} (MB)` });

/** vCPU for a memory size in MB; throws naming the value and the allowed ones. */
export function cpuForMemory(memoryMb: number, key = "runtime_memory"): number {
  const cpu = MEMORY_TABLE.get(memoryMb);
  if (cpu === undefined) throw new InvalidMemoryError(`${key}: ${notASize(memoryMb)}`);
  return cpu;
}

/** The `memory` string Container Apps expects for a size in MB, e.g. 512 -> "0.5Gi". */
export function containerMemoryString(memoryMb: number): string {
  return `${memoryMb / 1024}Gi`;
}

export function needsWorkloadProfile(memoryMb: number): boolean {
  return memoryMb > CONSUMPTION_MAX_MEMORY_MB;
}
