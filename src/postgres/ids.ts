/**
 * Whether PostgreSQL `text` can hold a string exactly. It cannot hold U+0000, and the driver sends UTF-8, which
 * turns every lone surrogate into U+FFFD, so two different ids could alias. Such ids are refused instead.
 */
export const isStorableText = (s: string): boolean =>
  !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)

export const unstorableReason = (what: string): string =>
  `${what} holds U+0000 or a lone surrogate, which PostgreSQL text cannot store exactly`
