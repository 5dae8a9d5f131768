/** better-sqlite3 reports SQLite's extended result codes as `code`, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
const codeOf = (cause: unknown): string | undefined => {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

const hasCode = (cause: unknown, base: string): boolean => {
  const code = codeOf(cause)
  return code !== undefined && (code === base || code.startsWith(`${base}_`))
}

/** Another connection holds a lock this one needs: worth trying again a little later. */
export const isBusy = (cause: unknown): boolean => hasCode(cause, 'SQLITE_BUSY') || hasCode(cause, 'SQLITE_LOCKED')

/** A UNIQUE or PRIMARY KEY constraint refused a row: another writer got there first, or a duplicate. */
export const isUniqueViolation = (cause: unknown): boolean => {
  const code = codeOf(cause)
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
