/**
 * The longest id every store keeps, in UTF-8 bytes. One limit for every store, chosen so that the widest index
 * any store builds over them (PostgreSQL's unique (tenant, stream, commit id) b-tree, at most 2,704 bytes per
 * row; DynamoDB's 2,048-byte partition key) always fits. A longer id is refused by `commit` and `addSnapshot`
 * as an `InvalidAttempt` before any I/O; reading, deleting or purging one finds nothing.
 */
export const ID_LIMITS = {
  tenantId: 256,
  streamId: 1024,
  commitId: 128,
} as const

export type IdKind = keyof typeof ID_LIMITS
