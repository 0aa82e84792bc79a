/**
 * "Did you mean ...?" for a name that is not one of the valid ones (a config key, an option):
 * the valid name closest by edit distance, if it is close enough to be a likely typo.
 */

/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`, ignoring
 * case: the optimal string alignment distance, so `memroy` is one edit from `memory`.
 */
function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  // rows[i][j]: distance between the first i characters of s and the first j of t.
  const rows = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, rows[i - 2][j - 2] + 1);
      rows[i][j] = best;
    }
  }
  return rows[s.length][t.length];
}

/**
 * The candidate nearest to `name`, or undefined when none is within a third of the name's
 * length in edits (at least 2): further away, a suggestion is more confusing than helpful.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let nearest: string | undefined;
  let nearestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance <= limit && distance < nearestDistance) {
      nearest = candidate;
      nearestDistance = distance;
    }
  }
  return nearest;
}

/**
 * The end of an "unknown name" message: `did you mean "x"?` with the nearest candidate, or
 * the list of valid names when none is near.
 */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const nearest = nearestName(name, candidates);
  return nearest !== undefined ? `did you mean "${nearest}"?` : `valid: ${candidates.join(", ")}`;
}
