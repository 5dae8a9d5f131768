import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { CommonOptions, Source } from '../subscriptions/options.js'

/** Which commits a dispatcher or router reads: the subscription's source, without `topics` (each picks its own). */
export type SagaSource = Omit<Source, 'topics'>

/**
 * The subscription options a dispatcher or router takes as they are (see docs/subscriptions.md): all of them but
 * `source` (narrowed) and `onFailure`, whose default is `'park'` here.
 */
export interface RunOptions extends Omit<CommonOptions, 'source' | 'onFailure'> {
  readonly source?: SagaSource
  /**
   * After the last retry, and for a command or event that does not decode: `'park'` the commit (default), its
   * stream's later commits behind it (`parkStreamAfterFailure`), and go on; or `'stop'` (see docs/sagas.md).
   */
  readonly onFailure?: 'park' | 'stop'
}

/** The fields of `RunOptions` that are not handed to `subscribe` as they are. */
const narrowed = new Set(['source', 'onFailure'])

/**
 * The subscription options of a dispatcher or router: the user's options but its `own` ones, its source with
 * `select` as the filter after the user's, and `'park'` by default.
 */
export const subscriptionOptions = (options: RunOptions, own: readonly string[], select: (commit: Commit) => boolean): CommonOptions => {
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) if (!narrowed.has(k) && !own.includes(k)) rest[k] = v
  const source = options.source ?? {}
  const userFilter = source.filter
  const filter = userFilter === undefined ? select : (commit: Commit) => userFilter(commit) === true && select(commit)
  return { ...(rest as unknown as CommonOptions), source: { ...source, filter }, onFailure: options.onFailure ?? 'park' }
}

export const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/** Why the options cannot be run before `subscribe` checks the rest, or `undefined`. */
export const runProblem = (options: unknown): string | undefined => {
  if (!isObject(options)) return 'options must be an object'
  const source = options['source']
  if (source !== undefined && !isObject(source)) return 'source must be an object'
  if (isObject(source) && source['filter'] !== undefined && typeof source['filter'] !== 'function') return 'source.filter must be a function'
  if (isObject(source) && source['topics'] !== undefined) return 'source.topics is not an option here (the router reads its topic map\'s topics)'
  const onFailure = options['onFailure']
  if (onFailure !== undefined && onFailure !== 'park' && onFailure !== 'stop') return "onFailure must be 'park' or 'stop'"
  return undefined
}

/**
 * A handler's or feed's answer, checked: anything but an `Either` is a throw (a failure of the batch, as the
 * subscription treats it), never taken for a success.
 */
export const answered = <A>(what: string, r: A): A => {
  const tag = isObject(r) ? r['_tag'] : undefined
  if (tag !== 'Left' && tag !== 'Right') throw new TypeError(`the ${what} did not answer an Either`)
  return r
}

/**
 * What a commit asks of a dispatcher or router (its commands, its deliveries), worked out once: by the
 * subscription's filter (`select`), which keeps it for the handler (`of`) on the same commit object. A commit the
 * filter never saw (a replayed parked one) is worked out again. A failure in the filter is thrown: that is the
 * subscription's failure of that commit, parked (or stopping) by its policy.
 */
export const preparedOnce = <A, Err>(prepare: (commit: Commit) => E.Either<Err, readonly A[]>) => {
  const kept = new WeakMap<Commit, readonly A[]>()
  const select = (commit: Commit): boolean => {
    const prepared = prepare(commit)
    if (E.isLeft(prepared)) throw prepared.left
    if (prepared.right.length === 0) return false
    kept.set(commit, prepared.right)
    return true
  }
  const of = (commit: Commit): E.Either<Err, readonly A[]> => {
    const k = kept.get(commit)
    return k === undefined ? prepare(commit) : E.right(k)
  }
  return { select, of }
}
