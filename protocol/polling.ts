/**
 * How often client and workers poll storage: right away when work is flowing, less and
 * less often while nothing happens. The next poll comes after a fraction of the time
 * since the last progress (bounded), so a result is seen at most that fraction late,
 * a poller idle for t makes about log(t) / fraction polls, and an idle one settles at
 * one poll per `maxMs` (which is what idling costs in billed requests).
 */
export interface PollPacing {
  minMs: number;
  maxMs: number;
  /** Delay as a fraction of the time since the last progress. */
  fraction: number;
}

export function nextPollDelay(sinceProgressMs: number, pacing: PollPacing): number {
  return Math.min(pacing.maxMs, Math.max(pacing.minMs, sinceProgressMs * pacing.fraction));
}

/** The message the local backend's scaler sends its worker processes when it queued work: poll now. */
export const WAKE_MESSAGE = { type: "lithops-wake" } as const;

export function isWakeMessage(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === WAKE_MESSAGE.type;
}
