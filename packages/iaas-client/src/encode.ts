/**
 * Percent-encoding as QingCloud signs it: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
 * every other UTF-8 byte becomes %XY with upper-case hex, and a space is %20 (never +).
 */
const SUB_DELIMS = /[!'()*]/g;

export function percentEncode(value: string): string {
  // encodeURIComponent already escapes everything else with upper-case hex, but leaves !'()* alone,
  // which would make our signature differ from the server's. Lone surrogates would make it throw, so the
  // string is made well-formed first (they become U+FFFD, as Go's UTF-8 conversion does).
  return encodeURIComponent(value.toWellFormed()).replace(
    SUB_DELIMS,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Decodes one query-string component; a malformed escape returns undefined instead of throwing. */
export function percentDecode(value: string, plusIsSpace = false): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? value.replaceAll('+', ' ') : value);
  } catch {
    return undefined;
  }
}
