/**
 * Escaping for the self-contained HTML report: text into HTML, JSON into an inline `<script>` element, and
 * JavaScript sources (the bundled plotting library) into `<script>` elements.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Serialise `value` as JSON that is safe inside `<script type="application/json">`: `<`, `>` and `&` become
 * `\u003c`, `\u003e`, `\u0026` (so neither `</script>` nor `<!--` can appear), and U+2028/U+2029 are escaped too.
 * `JSON.parse` of the element's text gives back exactly `value`.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('jsonForScript: value is not JSON-serialisable');
  return json.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * Make a JavaScript source safe to inline in a `<script>` element: every `</script` (any case) becomes `<\/script`
 * and every `<!--` becomes `<\!--`. Both rewrites keep the meaning of the code when they occur inside string or
 * regular-expression literals, the only places they can occur in valid JavaScript.
 */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
