/**
 * MySQL/MariaDB server errors the store reacts to, by errno (never by message text). Everything else becomes a
 * StorageError that keeps the driver's error as its cause.
 */
export const mysqlErrno = {
  /** ER_DUP_ENTRY: a unique key refused the row. */
  duplicateKey: 1062,
  /** ER_LOCK_WAIT_TIMEOUT: gave up waiting for a row lock (innodb_lock_wait_timeout). */
  lockWaitTimeout: 1205,
  /** ER_LOCK_DEADLOCK: InnoDB chose this transaction as a deadlock victim and rolled it back. */
  deadlock: 1213,
  /** ER_NO_SUCH_TABLE: the store was not initialised, or was dropped. */
  noSuchTable: 1146,
  /** ER_SP_DOES_NOT_EXIST: the append routine is missing (not initialised, or dropped). */
  noSuchRoutine: 1305,
} as const

export type MysqlErrorKind = 'duplicateKey' | 'deadlock' | 'lockWaitTimeout' | 'other'

const errnoOf = (cause: unknown): number | undefined => {
  const errno = (cause as { errno?: unknown } | null)?.errno
  return typeof errno === 'number' ? errno : undefined
}

/** Classifies a driver error by its errno. */
export const mysqlErrorKind = (cause: unknown): MysqlErrorKind => {
  switch (errnoOf(cause)) {
    case mysqlErrno.duplicateKey:
      return 'duplicateKey'
    case mysqlErrno.deadlock:
      return 'deadlock'
    case mysqlErrno.lockWaitTimeout:
      return 'lockWaitTimeout'
    default:
      return 'other'
  }
}

/**
 * Whether an append that failed this way may simply run again: a deadlock victim was rolled back whole, and a
 * duplicate key means another writer slipped in between (only writers that bypass the append routine can do
 * that), so running the routine again classifies the attempt properly.
 */
export const isRetryable = (cause: unknown): boolean => {
  const kind = mysqlErrorKind(cause)
  return kind === 'deadlock' || kind === 'duplicateKey'
}

/** A server error (errno) leaves the connection usable; anything else (a lost socket, a protocol error) does not. */
export const connectionSurvives = (cause: unknown): boolean => {
  const c = cause as { errno?: unknown; fatal?: unknown } | null
  return typeof c?.errno === 'number' && c.fatal !== true
}

/**
 * Whether a statement that failed this way may have ended its transaction: a deadlock victim is rolled back whole,
 * and a lock-wait timeout is too under `innodb_rollback_on_timeout`. Statements after it would run outside any
 * transaction (autocommit), so a caller that handed the connection on must not COMMIT as if it still held one.
 */
export const mayEndTransaction = (cause: unknown): boolean => {
  const kind = mysqlErrorKind(cause)
  return kind === 'deadlock' || kind === 'lockWaitTimeout'
}
