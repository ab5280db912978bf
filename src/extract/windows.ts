/**
 * Long sentences: split a sentence whose pieces do not fit the model into overlapping windows of whole words, and
 * take each word from the window where it has the most context.
 *
 * Windows hold at most `budget` pieces (the model maximum minus the special tokens). Window k+1 starts at the first
 * word that begins at least `stride` pieces after window k's start (stride = budget / 2 by default, so windows
 * overlap by about half), and the last window ends at the sentence end. A word's context in a window is
 * min(pieces before it, pieces after it) inside that window, where a window edge that is also the sentence edge
 * counts as unlimited context; the word is taken from the window that maximises it (the earlier one on ties).
 * A single word longer than the budget is cut to `budget` pieces (counted as a truncated word).
 */

/** One window: words [startWord, endWord) of the sentence. */
export interface Window {
  startWord: number;
  endWord: number;
}

/** The windows of a sentence and, for each word, the window it is read from. */
export interface WindowPlan {
  windows: Window[];
  /** owner[w] = index into windows. */
  owner: number[];
  /** Words whose pieces were cut to the budget. */
  truncatedWords: number[];
}

/**
 * Plan windows for words with the given piece counts. With total pieces ≤ budget this is one window over the whole
 * sentence.
 */
export function planWindows(pieceCounts: number[], budget: number, stride = Math.max(1, Math.floor(budget / 2))): WindowPlan {
  if (budget < 1) throw new RangeError(`window budget must be ≥ 1, got ${budget}`);
  const n = pieceCounts.length;
  const counts = pieceCounts.map((c) => Math.min(c, budget));
  const truncatedWords = pieceCounts.map((c, i) => (c > budget ? i : -1)).filter((i) => i >= 0);
  const start: number[] = new Array(n + 1);
  start[0] = 0;
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + counts[i];
  const total = start[n];
  if (total <= budget) return { windows: [{ startWord: 0, endWord: n }], owner: new Array(n).fill(0), truncatedWords };

  const windows: Window[] = [];
  let s = 0;
  for (;;) {
    let e = s;
    while (e < n && start[e + 1] - start[s] <= budget) e++;
    if (e === s) e = s + 1; // cannot happen after clamping, kept for safety
    windows.push({ startWord: s, endWord: e });
    if (e >= n) break;
    // next start: first word beginning at least `stride` pieces later, but never past the end of this window
    let ns = s + 1;
    while (ns < e && start[ns] - start[s] < stride) ns++;
    // the next window must reach beyond this one's end
    s = ns;
  }
  const owner: number[] = new Array(n).fill(0);
  for (let w = 0; w < n; w++) {
    let best = -1;
    let bestCtx = -1;
    windows.forEach((win, k) => {
      if (w < win.startWord || w >= win.endWord) return;
      const left = win.startWord === 0 ? Infinity : start[w] - start[win.startWord];
      const right = win.endWord === n ? Infinity : start[win.endWord] - start[w + 1];
      const ctx = Math.min(left, right);
      if (ctx > bestCtx) {
        bestCtx = ctx;
        best = k;
      }
    });
    owner[w] = best;
  }
  return { windows, owner, truncatedWords };
}
