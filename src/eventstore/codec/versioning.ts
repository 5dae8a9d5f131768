import type * as t from 'io-ts'
import type { Headers } from '../Json.js'

/**
 * The event header that records the schema version an event's body was written at. Absent means version 1, so
 * events stored before versioning (and events of definitions that never changed) need no rewrite; the kit writes
 * the header only for versions above 1.
 */
export const SCHEMA_HEADER = 'aett.schema'

/**
 * The snapshot header that records the version of the state's shape a snapshot was taken with (a
 * `StateCodec`'s `version`). Absent means version 1. A snapshot of another version is ignored: the stream is
 * replayed from its start instead.
 */
export const STATE_HEADER = 'aett.state'

/**
 * An event's history as a topic map reads it: one codec per schema version (oldest first; the last is the
 * definition's own `codec`), the pure steps between them, the topics it had before, and the version it writes.
 * `defineEvent(...).nextVersion(...)` builds it; its types are checked there.
 */
export interface EventHistory {
  readonly topic: string
  /** `codecs[0]` decodes version 1, `codecs[n - 1]` the current version `n`. */
  readonly codecs: readonly t.Type<unknown, unknown, unknown>[]
  /** `upcasts[i]` turns an event of version `i + 1` into the own fields of version `i + 2`. */
  readonly upcasts: readonly ((previous: unknown) => unknown)[]
  readonly formerTopics: readonly string[]
  /** The version new events are written at: the current one unless `writeVersion` said otherwise. */
  readonly writeVersion: number
  /** Turns a current event into the own fields of `writeVersion`; absent when that is the current version. */
  readonly downcast: ((current: unknown) => unknown) | undefined
}

/**
 * The schema version a stored event was written at, from its headers: 1 when the header is absent, `undefined`
 * when it is there but is not a whole number from 1 (a corrupt or foreign header).
 */
export const schemaVersionOf = (headers: Headers | undefined): number | undefined => {
  if (headers === undefined) return 1
  let v: unknown
  try {
    v = headers[SCHEMA_HEADER]
  } catch {
    return undefined
  }
  if (v === undefined) return 1
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : undefined
}

/** The version of the state's shape a snapshot was taken with (1 when its headers do not say). */
export const stateVersionOf = (headers: Headers | undefined): unknown => {
  const v: unknown = headers?.[STATE_HEADER]
  return v === undefined ? 1 : v
}
