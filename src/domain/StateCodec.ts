import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { decodeError, type DecodeError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import { toIssues } from '../eventstore/codec/report.js'

/** How a state (or memento payload) is kept in a snapshot: as JSON, and back. */
export interface StateCodec<S> {
  readonly encode: (state: S) => Json
  readonly decode: (payload: Json) => E.Either<DecodeError, S>
}

/**
 * Stores the state as it is. Right for states that are plain JSON already (no `Date`, `Map`, class instances);
 * use `stateFromCodec` for anything else.
 */
export const jsonState = <S>(): StateCodec<S> => ({
  encode: (state) => state as unknown as Json,
  decode: (payload) => E.right(payload as unknown as S),
})

/** Stores the state through an io-ts codec; a payload that does not decode is a `DecodeError` named `name`. */
export const stateFromCodec = <S, O>(codec: t.Type<S, O, unknown>, name: string = codec.name): StateCodec<S> => ({
  encode: (state) => codec.encode(state) as unknown as Json,
  decode: (payload) => E.mapLeft((errors: t.Errors) => decodeError(name, toIssues(errors)))(codec.decode(payload)),
})
