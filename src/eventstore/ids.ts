const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether every store can keep an id exactly. Drivers send UTF-8, which turns a lone surrogate into U+FFFD (so
 * two ids could alias), and PostgreSQL text cannot hold U+0000; such ids are refused by every store alike.
 */
export const isStorableId = (s: string): boolean => !s.includes('\u0000') && !loneSurrogate.test(s)

export const unstorableIdReason = (what: string): string =>
  `${what} holds U+0000 or a lone surrogate, which cannot be stored exactly`
