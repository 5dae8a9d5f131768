/**
 * PostgreSQL failures the store tells apart, by SQLSTATE and by the constraint name the server reports (both are
 * structured fields of the error, never parsed out of its message).
 */

export const sqlStates = {
  uniqueViolation: '23505',
  /** DROP ... RESTRICT found objects that depend on it (a schema that holds more than the store's tables). */
  dependentObjectsStillExist: '2BP01',
} as const

/** The SQLSTATE of a driver error, when it has one. */
export const sqlState = (cause: unknown): string | undefined => {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The constraint a unique violation names, when the server reported it. */
export const violatedConstraint = (cause: unknown): string | undefined => {
  if (sqlState(cause) !== sqlStates.uniqueViolation) return undefined
  const constraint = (cause as { constraint?: unknown }).constraint
  return typeof constraint === 'string' ? constraint : undefined
}
