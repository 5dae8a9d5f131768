import * as E from 'fp-ts/lib/Either.js'
import { fold } from '../../decider/Decider.js'
import { firstRevision, type Commit } from '../../eventstore/Commit.js'
import type { StreamError } from '../../eventstore/errors.js'
import type { ChangeStamp } from '../../eventstore/ports.js'
import { takeCommits, toWindow, type StreamState } from '../../eventstore/stream/StreamState.js'
import type { CacheUse, Context } from './Context.js'
import type { Entry } from './cacheTable.js'
import { decodeEvents, load, type Loaded } from './load.js'
import type { Model } from './Model.js'
import type { Appended } from './save.js'

// How the repositories go through a state cache (`stateCache`, `RepositoryOptions.cache`). The rules:
// - an entry holds only states the store holds: one loaded from it, or the state after an append it accepted,
//   folded from the events as stored (decoded back), at the stream position the store reported;
// - fresh mode reads the commits after the entry's revision before handing it out; a read that finds a commit not
//   continuing the entry (a stream deleted and written again) drops it and loads from the store;
// - unless the store offers stamps (`changeStamp`) and still answers the entry's: the entry's stamp is taken
//   BEFORE the read that gave its state, so any commit after that read changes it (a commit between the stamp
//   and the read only costs a needless read later). After our own append the stamp taken right before it is
//   carried over only when the store shows exactly that append in between (`stampAfter`); else the entry has
//   none and the next command reads once;
// - stale mode hands out an entry younger than `allowStaleMs` without reading, and the command path
//   (`handle.ts`) confirms what no append would check: a refusal, nothing to do, an expected version;
// - a failed read drops the entry; a failed append leaves it as it was; a conflict takes the missed commits in;
// - loads at an explicit version or time never touch it.

type Typed = { readonly type: string }

/**
 * How a face keeps its states in a cache. Immutable states (deciders, saga definitions) are kept as they are;
 * class instances are mutable and handed to user code, so they are kept as a picture (an aggregate's memento
 * payload, cloned; a saga's events) from which `give` builds a new instance each time.
 */
export interface Keeping<S, Ev> {
  /** What the state belongs to (the decider, saga definition or class): an entry of another owner is never handed out. */
  readonly owner: object
  /** Whether the picture is the events themselves (class sagas): it then needs every event from the start. */
  readonly history: boolean
  /**
   * The picture of `state`, which stands `events` after the state pictured by `before` (`undefined`: after the
   * start of the stream, or the face has no use for it). `undefined` when the state cannot be kept.
   */
  readonly picture: (state: S, before: unknown, events: readonly Ev[]) => { readonly kept: unknown } | undefined
  /** A state to hand out from a picture at `stream`'s position. */
  readonly give: (picture: unknown, stream: StreamState) => E.Either<StreamError, S>
}

/** A model that a face lets a cache keep. */
export type CacheableModel<S, Ev> = Model<S, Ev> & { readonly keeping?: Keeping<S, Ev> | undefined }

/** Where a state came from: a full load, the cache after reading what followed it, or the cache alone. */
export type Served = 'store' | 'read' | 'cache'

export interface Through<S> extends Loaded<S> {
  readonly served: Served
}

interface Slot<S, Ev> {
  readonly use: CacheUse
  readonly keeping: Keeping<S, Ev>
  readonly key: string
  readonly store: number
}

const slotOf = <S, Ev extends Typed>(ctx: Context<Ev>, model: CacheableModel<S, Ev>, streamId: string): Slot<S, Ev> | undefined => {
  const use = ctx.cache
  const keeping = model.keeping
  if (use === undefined || keeping === undefined) return undefined
  const t = use.table
  const store = t.idOf(ctx.store)
  // Identities are numbers from the table's WeakMap; tenant and stream go through JSON, so no id can alias another.
  const key = `${store}.${t.idOf(keeping.owner)}.${t.idOf(ctx.topics)}.${model.stateVersion ?? 1}:${JSON.stringify([ctx.tenantId, streamId])}`
  return { use, keeping, key, store }
}

// A cached position keeps the newest commit ids only: enough to answer a repeat of a recent command before
// deciding; an older repeat is still caught by the store (a duplicate commit) or by `committedEarlier`, as it is
// for a commit before the newest snapshot, so no outcome changes.
const MAX_IDS = 128

const trimStream = (s: StreamState): StreamState => ({
  ...s,
  committedEvents: [],
  committedHeaders: {},
  pendingEvents: [],
  pendingHeaders: {},
  commitIds: s.commitIds.size <= MAX_IDS ? s.commitIds : new Set([...s.commitIds].slice(-MAX_IDS)),
})

const give = <S, Ev>(slot: Slot<S, Ev>, entry: Entry): S | undefined => {
  try {
    const given = slot.keeping.give(entry.picture, entry.stream)
    return E.isRight(given) ? given.right : undefined
  } catch {
    return undefined
  }
}

/**
 * Keeps `state`, which stands at `stream`, `events` after `base`. An entry newer than `stream` stays (another
 * command of this process got further); a face that pictures its history needs the entry at `base` (or a base at
 * the start), and without it the entry is dropped rather than kept with a hole.
 */
const keepAfter = <S, Ev>(
  slot: Slot<S, Ev>,
  base: StreamState,
  state: S,
  events: readonly Ev[],
  stream: StreamState,
  stamp: ChangeStamp | undefined,
): void => {
  const table = slot.use.table
  const entry = table.peek(slot.key)
  if (entry !== undefined && entry.stream.streamRevision > stream.streamRevision) return
  const atBase = entry !== undefined && entry.stream.streamRevision === base.streamRevision && entry.stream.commitSequence === base.commitSequence
  if (slot.keeping.history && !atBase && base.streamRevision !== 0) return table.remove(slot.key)
  let picture: { readonly kept: unknown } | undefined
  try {
    picture = slot.keeping.picture(state, atBase ? entry.picture : undefined, events)
  } catch {
    picture = undefined
  }
  if (picture === undefined) return table.remove(slot.key)
  table.put({ key: slot.key, store: slot.store, tenantId: stream.tenantId, streamId: stream.streamId, picture: picture.kept, stream: trimStream(stream), stamp })
}

/** The store's stamp of the stream now; `undefined` when it offers none or cannot tell. */
export const stampNow = <Ev extends Typed>(ctx: Context<Ev>, streamId: string): ChangeStamp | undefined => ctx.store.changeStamp?.(ctx.tenantId, streamId)

const sameStamp = (a: ChangeStamp | undefined, b: ChangeStamp | undefined): boolean =>
  a !== undefined && b !== undefined && a.shared === b.shared && a.own === b.own

/**
 * The stamp for the state after our append, `before` being the stamp taken right before it: only when nobody
 * else changed the store (`shared` alike) and the stream's own writes grew by exactly one, ours, since an append
 * of the store object counts once when it settles. Anything else, and the next command reads once.
 */
const stampAfter = <Ev extends Typed>(ctx: Context<Ev>, streamId: string, before: ChangeStamp | undefined): ChangeStamp | undefined => {
  if (before === undefined) return undefined
  const now = stampNow(ctx, streamId)
  return now !== undefined && now.shared === before.shared && now.own === before.own + 1 ? now : undefined
}

/**
 * Folds commits that continue `stream` into `state`: each must start right after the last (revision and
 * sequence), else `'gap'`. Commits already known are skipped.
 */
export const advance = <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  start: Loaded<S>,
  commits: readonly Commit[],
): E.Either<StreamError, Loaded<S> & { readonly events: readonly Ev[] }> | 'gap' => {
  let { state } = start
  let revision = start.stream.streamRevision
  let sequence = start.stream.commitSequence
  const events: Ev[] = []
  const taken: Commit[] = []
  for (const c of commits) {
    if (c.streamRevision <= revision) continue
    if (firstRevision(c) !== revision + 1 || c.commitSequence !== sequence + 1) return 'gap'
    const decoded = decodeEvents(ctx, model, state, c.events)
    if (E.isLeft(decoded)) return decoded
    state = fold(model.evolve)(state, decoded.right)
    events.push(...decoded.right)
    taken.push(c)
    revision = c.streamRevision
    sequence = c.commitSequence
  }
  const stream = taken.length === 0 ? start.stream : takeCommits(start.stream, taken, toWindow())
  return E.right({ state, stream, events })
}

const fullLoad = async <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  streamId: string,
  slot: Slot<S, Ev>,
): Promise<E.Either<StreamError, Through<S>>> => {
  // A face that pictures its history hears every event the load folds (class sagas, which are never restored
  // from a snapshot, so these are all the stream's events).
  const events: Ev[] = []
  const watched: Model<S, Ev> = slot.keeping.history
    ? {
        ...model,
        evolve: (s, e) => {
          events.push(e)
          return model.evolve(s, e)
        },
      }
    : model
  const stamp = stampNow(ctx, streamId)
  const loaded = await load(ctx, watched, streamId)
  if (E.isLeft(loaded)) {
    slot.use.table.remove(slot.key)
    return loaded
  }
  const { state, stream } = loaded.right
  keepAfter(slot, { ...stream, streamRevision: 0, commitSequence: 0 }, state, events, stream, stamp)
  return E.right({ state, stream, served: 'store' })
}

/** The entry brought up to the stream's head with one short read; `'restart'` when it cannot be. */
const resume = async <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  streamId: string,
  slot: Slot<S, Ev>,
  entry: Entry,
): Promise<E.Either<StreamError, Through<S>> | 'restart'> => {
  const table = slot.use.table
  const state = give(slot, entry)
  if (state === undefined) {
    table.remove(slot.key)
    return 'restart'
  }
  // Taken before the read, and so also the stamp of what the read finds.
  const stamp = stampNow(ctx, streamId)
  if (sameStamp(entry.stamp, stamp)) {
    // Nothing was committed to the stream since the entry's state was read: a read would find nothing.
    table.confirm(slot.key, entry, entry.stamp)
    return E.right({ state, stream: entry.stream, served: 'read' })
  }
  const commits: Commit[] = []
  for await (const r of ctx.store.get(ctx.tenantId, streamId, { minRevision: entry.stream.streamRevision + 1 })) {
    if (E.isLeft(r)) {
      table.remove(slot.key)
      return r
    }
    commits.push(r.right)
  }
  if (commits.length === 0) {
    table.confirm(slot.key, entry, stamp)
    return E.right({ state, stream: entry.stream, served: 'read' })
  }
  const advanced = advance(ctx, model, { state, stream: entry.stream }, commits)
  if (advanced === 'gap' || E.isLeft(advanced)) {
    table.remove(slot.key)
    return advanced === 'gap' ? 'restart' : advanced
  }
  keepAfter(slot, entry.stream, advanced.right.state, advanced.right.events, advanced.right.stream, stamp)
  return E.right({ state: advanced.right.state, stream: trimStream(advanced.right.stream), served: 'read' })
}

/**
 * A stream's state at its head, through the repository's cache when it has one (and the face lets it keep its
 * states): from the entry as it is when `allowStale` and it is younger than `allowStaleMs`, else from the entry
 * and the commits after it, else from the store (and then kept).
 */
export const loadThrough = async <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  streamId: string,
  allowStale = true,
): Promise<E.Either<StreamError, Through<S>>> => {
  const slot = slotOf(ctx, model, streamId)
  if (slot === undefined) return E.map((l: Loaded<S>): Through<S> => ({ ...l, served: 'store' }))(await load(ctx, model, streamId))
  const table = slot.use.table
  const entry = table.lookup(slot.key)
  if (entry !== undefined) {
    const stale = slot.use.allowStaleMs
    if (allowStale && stale !== undefined && table.now() - entry.confirmedAt <= stale) {
      const state = give(slot, entry)
      if (state !== undefined) return E.right({ state, stream: entry.stream, served: 'cache' })
      table.remove(slot.key)
    } else {
      const resumed = await resume(ctx, model, streamId, slot, entry)
      if (resumed !== 'restart') return resumed
    }
  }
  return fullLoad(ctx, model, streamId, slot)
}

/** Drops the stream's entry (an append met a stream that does not continue it: deleted and written again). */
export const forget = <S, Ev extends Typed>(ctx: Context<Ev>, model: CacheableModel<S, Ev>, streamId: string): void => {
  const slot = slotOf(ctx, model, streamId)
  if (slot !== undefined) slot.use.table.remove(slot.key)
}

/** The commits a writer missed (from a concurrency conflict) taken into the stream's entry, if it has one. */
export const takeIn = <S, Ev extends Typed>(ctx: Context<Ev>, model: CacheableModel<S, Ev>, streamId: string, commits: readonly Commit[]): void => {
  const slot = slotOf(ctx, model, streamId)
  if (slot === undefined) return
  const entry = slot.use.table.peek(slot.key)
  if (entry === undefined || !commits.some((c) => c.streamRevision > entry.stream.streamRevision)) return
  const state = give(slot, entry)
  const advanced = state === undefined ? 'gap' : advance(ctx, model, { state, stream: entry.stream }, commits)
  if (advanced === 'gap' || E.isLeft(advanced)) return slot.use.table.remove(slot.key)
  // Missed commits say nothing of what came after them: no stamp.
  keepAfter(slot, entry.stream, advanced.right.state, advanced.right.events, advanced.right.stream, undefined)
}

/**
 * Keeps the state after an append the store accepted: `base` is where the change was decided, `appended` what was
 * stored. The state kept is folded from our events as stored (decoded back), so it is the state a load would
 * give. A class instance (`applied`) has applied its events already; if others' commits were rebased over, its
 * state was folded in another order than the store's, so the entry is dropped instead. `before` is the store's
 * stamp of the stream taken right before the append (see `stampAfter`).
 */
export const keepAppended = <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  base: Loaded<S>,
  appended: Appended<Ev>,
  applied: boolean,
  before: ChangeStamp | undefined,
): void => {
  const slot = slotOf(ctx, model, base.stream.streamId)
  if (slot === undefined) return
  if (applied && appended.missed.length > 0) return slot.use.table.remove(slot.key)
  const ours = decodeEvents(ctx, model, base.state, appended.commit.events)
  if (E.isLeft(ours)) return slot.use.table.remove(slot.key)
  const events = [...appended.missed, ...ours.right]
  const state = applied ? base.state : fold(model.evolve)(base.state, events)
  keepAfter(slot, base.stream, state, events, appended.stream, stampAfter(ctx, base.stream.streamId, before))
}
