/**
 * What the SDK's errors mean to the store. They are told apart by their `name`, never by message text.
 */

/** A request that was refused before it was sent: it certainly did not change anything. */
export class NotSent extends Error {
  override readonly name = 'NotSent'
}

export const errorName = (cause: unknown): string | undefined => {
  const name = (cause as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

/** A conditional write whose condition did not hold: it wrote nothing. */
export const isConditionalCheckFailed = (cause: unknown): boolean => errorName(cause) === 'ConditionalCheckFailedException'
/** The table (or index) does not exist, or not yet. */
export const isResourceNotFound = (cause: unknown): boolean => errorName(cause) === 'ResourceNotFoundException'
/** The table is being created or deleted by someone else. */
export const isResourceInUse = (cause: unknown): boolean => errorName(cause) === 'ResourceInUseException'

const throttling: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
])

/** DynamoDB refused the request for capacity reasons; it did nothing and can be sent again. */
export const isThrottled = (cause: unknown): boolean => throttling.has(errorName(cause) ?? '')

/**
 * True when the request certainly changed nothing: refused by a condition, by validation, for capacity, or
 * before it was sent. A network failure is not among these: the write may have landed.
 */
export const certainlyNotApplied = (cause: unknown): boolean =>
  cause instanceof NotSent ||
  isThrottled(cause) ||
  isConditionalCheckFailed(cause) ||
  errorName(cause) === 'ValidationException'
