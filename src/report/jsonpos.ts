/**
 * Source positions in JSON text, so that errors about a results file can name a line: the line of a character
 * offset, and the line where the value at a given path (e.g. `results[2].minimal.count`) starts.
 */

/** 1-based line of character offset `pos` in `text`. */
export function lineAt(text: string, pos: number): number {
  let line = 1;
  const end = Math.min(pos, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * 1-based line where the value at `path` starts in the (valid) JSON `text`; for a path that does not exist, the
 * line of its deepest existing ancestor. Returns undefined if `text` is not valid JSON.
 */
export function lineOfPath(text: string, path: readonly PropertyKey[]): number | undefined {
  let i = 0;
  let best = 1;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  // depth = how many leading path elements the current value matches.
  const value = (depth: number): void => {
    ws();
    if (depth >= 0) best = lineAt(text, i);
    const onPath = depth >= 0 && depth < path.length ? path[depth] : null;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const key = str();
        ws();
        i++; // ':'
        const match = onPath !== null && String(onPath) === key;
        value(match ? depth + 1 : -1);
        ws();
        if (text[i] === ',') { i++; continue; }
        i++; // '}'
        return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (let k = 0; ; k++) {
        const match = onPath !== null && String(onPath) === String(k);
        value(match ? depth + 1 : -1);
        ws();
        if (text[i] === ',') { i++; continue; }
        i++; // ']'
        return;
      }
    }
    if (c === '"') { str(); return; }
    while (i < text.length && !',}] \n\r\t'.includes(text[i])) i++;
  };
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  value(0);
  return best;
}
