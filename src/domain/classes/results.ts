import * as E from 'fp-ts/lib/Either.js'
import type { SnapshotError } from '../../eventstore/errors.js'
import type { HandleOptions } from '../core/handle.js'
import type { AlreadyCommitted, NothingToDo } from '../core/save.js'
import { DomainFailure } from '../errors.js'

/**
 * Options of a class-face save, the same as `handle`'s. `commitId` makes the save idempotent: a commit id already
 * stored answers `AlreadyCommitted`, writes nothing, and moves the instance to the stream's head as stored.
 * `expectedVersion` is the revision the caller based its change on (an HTTP `If-Match`): an instance loaded at
 * another revision, or a concurrent writer, answers `WrongExpectedVersion` and the instance keeps its events.
 */
export interface SaveOptions extends HandleOptions {}

/** What a class-face save did. */
export type SaveResult =
  | {
      readonly _tag: 'Appended'
      readonly revision: number
      readonly commitSequence: number
      readonly checkpoint: number
      readonly snapshotFailure?: SnapshotError
    }
  | NothingToDo
  | AlreadyCommitted

/** Returns the value or throws the error inside a `DomainFailure`. */
export const unwrap = <Err extends { readonly _tag: string }, A>(r: E.Either<Err, A>): A => {
  if (E.isLeft(r)) throw new DomainFailure(r.left)
  return r.right
}
