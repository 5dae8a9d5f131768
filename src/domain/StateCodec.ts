import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { decodeError, type DecodeError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import { toIssues } from '../eventstore/codec/report.js'

/** How a state (or memento payload) is kept in a snapshot: as JSON, and back. */
export interface StateCodec<S> {
  readonly encode: (state: S) => Json
  readonly decode: (payload: Json) => E.Either<DecodeError, S>
  /**
   * The version of the state's shape (1 when absent). Snapshots record it (header `aett.state`); a snapshot taken
   * at another version is ignored and the stream replayed from its start, never decoded into the wrong shape.
   * Raise it whenever the state's shape changes in a way the codec cannot read back (`withStateVersion`).
   */
  readonly version?: number | undefined
}

/**
 * The codec with the version of the state's shape it encodes and decodes: snapshots of any other version are
 * ignored (the stream is replayed from its start).
 *
 * @example
 * const stateCodec = withStateVersion(2, stateFromCodec(AccountState))
 */
export const withStateVersion = <S>(version: number, codec: StateCodec<S>): StateCodec<S> => ({ ...codec, version })

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
