import type { ReadError, StorageError } from '../eventstore/errors.js'
import type { StoreKind } from './url.js'

/**
 * A failure the command line reports as one line on stderr (`aett: <message>`) and an exit code: 2 for a command
 * that cannot mean anything (a bad URL, a bad option), 1 for everything else (an unreachable server, a missing
 * schema, an unknown stream, a check that found events that do not decode).
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 130 = 1,
  ) {
    super(message)
  }
}

export const usage = (message: string): CliError => new CliError(message, 2)
export const failure = (message: string): CliError => new CliError(message, 1)

/** The driver's error under a StorageError, with an AggregateError (a host with several addresses) opened up. */
const rootCause = (cause: unknown): unknown => {
  let c = cause
  for (let i = 0; i < 5; i++) {
    if (c instanceof AggregateError && c.errors.length > 0) c = c.errors[0]
    else break
  }
  return c
}

const field = (cause: unknown, name: string): unknown =>
  typeof cause === 'object' && cause !== null ? (cause as Record<string, unknown>)[name] : undefined

const messageOf = (cause: unknown): string => {
  if (cause instanceof Error) {
    const m = cause.message.trim()
    if (m.length > 0) return m
    const code = field(cause, 'code')
    return typeof code === 'string' ? code : cause.name
  }
  return String(cause)
}

/** The first line of a message: drivers sometimes add a stack or a query on further lines. */
const oneLine = (s: string): string => s.split('\n')[0]?.trim() ?? s

/** The error names and codes that mean "the store's tables (or some of them) are not there", per store. */
const schemaMissing = (kind: StoreKind, cause: unknown): boolean => {
  const code = field(cause, 'code')
  switch (kind) {
    case 'sqlite':
      // better-sqlite3 reports a missing table as the generic SQLITE_ERROR; only the message tells.
      return code === 'SQLITE_ERROR' && /^no such (table|column)/.test(messageOf(cause))
    case 'postgres':
      // undefined_table, invalid_schema_name, undefined_column, undefined_function
      return code === '42P01' || code === '3F000' || code === '42703' || code === '42883'
    case 'mysql': {
      // ER_NO_SUCH_TABLE, ER_SP_DOES_NOT_EXIST, ER_BAD_FIELD_ERROR
      const errno = field(cause, 'errno')
      return errno === 1146 || errno === 1305 || errno === 1054
    }
    case 'dynamodb':
      return field(cause, 'name') === 'ResourceNotFoundException'
    case 'memory':
      return false
  }
}

const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST'])

const unreachable = (cause: unknown): boolean => {
  const code = field(cause, 'code')
  if (typeof code === 'string' && unreachableCodes.has(code)) return true
  const name = field(cause, 'name')
  // The AWS SDK reports a refused connection as a TimeoutError or a NetworkingError with the socket's code.
  return name === 'NetworkingError' || (name === 'TimeoutError' && field(cause, '$metadata') !== undefined)
}

/** Says what went wrong with a store call, in one line, naming `aett migrate` when the schema is missing. */
export const describeStoreError = (kind: StoreKind, label: string, error: StorageError | ReadError): string => {
  if (error._tag === 'InvalidArgument') return `${label}: ${error.message}`
  const cause = rootCause(error.cause)
  if (schemaMissing(kind, cause)) {
    return `${label}: the aett schema is missing or older than this release (${oneLine(messageOf(cause))}); run \`aett migrate\` on this store first`
  }
  if (unreachable(cause)) return `${label}: cannot connect: ${oneLine(messageOf(cause))}`
  if (error.operation === 'configure' || error.operation.startsWith('configure ')) return `${label}: bad store options: ${oneLine(messageOf(cause))}`
  return `${label}: ${oneLine(`${error.operation} failed: ${messageOf(cause)}`)}`
}

/** A CliError from a store failure. */
export const storeFailure = (kind: StoreKind, label: string, error: StorageError | ReadError): CliError => failure(describeStoreError(kind, label, error))
