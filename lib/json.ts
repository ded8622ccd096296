/**
 * @module json
 * `JSON.parse` for text from outside (files, backups, worker replies) without a try/catch at every
 * caller: each caller turns "not JSON" into its own typed error.
 */

/** The value `text` encodes, or `undefined` when it is not JSON (no JSON text parses to `undefined`). */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
