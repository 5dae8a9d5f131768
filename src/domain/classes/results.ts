import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import type { AlreadyCommitted, NothingToDo } from '../core/save.js'
import { DomainFailure } from '../errors.js'

export interface SaveOptions {
  readonly headers?: Headers
  /** Makes the save idempotent: a commit id already stored answers `AlreadyCommitted` and writes nothing. */
  readonly commitId?: string
}

/** What a class-face save did. */
export type SaveResult =
  | {
      readonly _tag: 'Appended'
      readonly revision: number
      readonly commitSequence: number
      readonly checkpoint: number
      readonly snapshotFailure?: StorageError
    }
  | NothingToDo
  | AlreadyCommitted

/** Returns the value or throws the error inside a `DomainFailure`. */
export const unwrap = <Err extends { readonly _tag: string }, A>(r: E.Either<Err, A>): A => {
  if (E.isLeft(r)) throw new DomainFailure(r.left)
  return r.right
}
