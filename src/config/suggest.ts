// "did you mean" for unknown keys: the closest allowed key by edit distance,
// offered only when it is close enough to be a likely typo.

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export function closest(word: string, candidates: readonly string[]): string | null {
  // `memory` → `mem`, `min` → `min_replicas`: one is the start of the other
  const lower = word.toLowerCase();
  const prefix = candidates.filter((c) => Math.min(c.length, lower.length) >= 3 && (c.startsWith(lower) || lower.startsWith(c)));
  if (prefix.length === 1) return prefix[0];
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}
