import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** The store's name in messages; `memory` by default. */
  readonly name?: string
}

export interface MemoryConfig {
  readonly name: string
}

/** Checks the options as every store does: a bad one is answered by every call, not thrown. */
export const resolveConfig = (options: MemoryStoreOptions | undefined): E.Either<StorageError, MemoryConfig> => {
  const o = (options ?? {}) as { name?: unknown }
  if (typeof o !== 'object' || o === null) return E.left(storageError('configure memory store', new TypeError('options must be an object')))
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0))
    return E.left(storageError('configure memory store', new TypeError('name must be a non-empty string')))
  return E.right({ name: o.name ?? 'memory' })
}
