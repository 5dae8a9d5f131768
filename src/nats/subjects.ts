/**
 * Why `u` cannot be a subject to publish on, or `undefined`: a subject is dot-separated tokens, none empty, with no
 * whitespace and no wildcard (`*`, `>`).
 */
export const subjectProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'string' || u.length === 0) return 'must be a non-empty string'
  if (/[\s*>]/u.test(u)) return `${JSON.stringify(u)} holds whitespace or a wildcard`
  if (u.split('.').some((t) => t.length === 0)) return `${JSON.stringify(u)} has an empty token`
  return undefined
}

/**
 * Any string (a stream id, a tenant id) as one subject token: `%`, `.`, `*`, `>`, whitespace, control characters and
 * every character outside ASCII become UTF-8 percent-escapes (`orders.42` -> `orders%2E42`), so that two different
 * strings never give the same token and a token never splits; the empty string is `%`. `decodeURIComponent` reverses it.
 */
export const subjectToken = (s: string): string => {
  if (s.length === 0) return '%'
  let out = ''
  for (const ch of s) {
    const code = ch.codePointAt(0) as number
    if (code > 0x20 && code < 0x7f && !'%.*>'.includes(ch)) out += ch
    else if (code >= 0xd800 && code <= 0xdfff) out += '%EF%BF%BD'
    else if (code < 0x80) out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`
    else out += encodeURIComponent(ch)
  }
  return out
}
