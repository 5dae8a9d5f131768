import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import type { Commit, EventMessage } from './Commit.js'
import type { StreamError } from './errors.js'
import type { EncodedEvent, Headers, Json } from './Json.js'
import type { CommitStore, RevisionRange } from './ports.js'
import type { Snapshot } from './Snapshot.js'
import { commitStream, openStream, openStreamAt, openStreamFromSnapshot, type StreamOptions } from './stream/streamIO.js'
import * as S from './stream/StreamState.js'

export * from './stream/StreamState.js'
export * from './stream/streamIO.js'

/**
 * The unit of work over one stream (SEMANTICS 16), for callers who like objects: a mutable shell over the
 * immutable `StreamState` and the functions of `stream/`. It never throws; failures come back as values.
 *
 * @example
 * const opened = await EventStream.open(store, 'default', 'order-1')
 * if (E.isRight(opened)) {
 *   const stream = opened.right.add({ type: 'Placed', total: 10 }).setHeader('user', 'ann')
 *   await stream.commitChanges()
 * }
 */
export class EventStream {
  private constructor(
    private readonly store: CommitStore,
    private current: S.StreamState,
    private readonly options: StreamOptions,
  ) {}

  /** A new stream with nothing in it yet. */
  static create(store: CommitStore, tenantId: string, streamId: string, options: StreamOptions = {}): EventStream {
    return new EventStream(store, S.emptyStream(tenantId, streamId), options)
  }

  /** Opens a stream, optionally between two revisions (see `openStream`). */
  static async open(
    store: CommitStore,
    tenantId: string,
    streamId: string,
    range: RevisionRange = {},
    options: StreamOptions = {},
  ): Promise<E.Either<StreamError, EventStream>> {
    return E.map((s: S.StreamState) => new EventStream(store, s, options))(await openStream(store, tenantId, streamId, range))
  }

  /** Opens a stream after a snapshot, up to `maxRevision` if given. */
  static async openFromSnapshot(
    store: CommitStore,
    snapshot: Snapshot,
    maxRevision?: number,
    options: StreamOptions = {},
  ): Promise<E.Either<StreamError, EventStream>> {
    return E.map((s: S.StreamState) => new EventStream(store, s, options))(await openStreamFromSnapshot(store, snapshot, maxRevision))
  }

  /** Opens a stream as it was at `maxTime`. */
  static async openAt(
    store: CommitStore,
    tenantId: string,
    streamId: string,
    maxTime: Date,
    options: StreamOptions = {},
  ): Promise<E.Either<StreamError, EventStream>> {
    return E.map((s: S.StreamState) => new EventStream(store, s, options))(await openStreamAt(store, tenantId, streamId, maxTime))
  }

  /** Wraps a state built with the functions of `stream/`. */
  static fromState(store: CommitStore, state: S.StreamState, options: StreamOptions = {}): EventStream {
    return new EventStream(store, state, options)
  }

  get state(): S.StreamState {
    return this.current
  }
  get tenantId(): string {
    return this.current.tenantId
  }
  get streamId(): string {
    return this.current.streamId
  }
  get streamRevision(): number {
    return this.current.streamRevision
  }
  get commitSequence(): number {
    return this.current.commitSequence
  }
  get committedEvents(): readonly EventMessage[] {
    return this.current.committedEvents
  }
  get committedHeaders(): Headers {
    return this.current.committedHeaders
  }
  get uncommittedEvents(): readonly EventMessage[] {
    return this.current.pendingEvents
  }
  get uncommittedHeaders(): Headers {
    return this.current.pendingHeaders
  }
  /** True when opened with a max revision that cut through a commit; such a stream refuses to commit. */
  get isPartial(): boolean {
    return this.current.partialAt !== null
  }

  /** Adds an event (an encoded body) to the pending commit. */
  add(body: EncodedEvent, headers: Headers = {}): this {
    this.current = S.addEvent(this.current, body, headers)
    return this
  }

  /** Sets a header of the pending commit. */
  setHeader(key: string, value: Json): this {
    this.current = S.setHeader(this.current, key, value)
    return this
  }

  /**
   * Commits what is pending. `None` when nothing was. On a concurrency conflict the stream takes in the commits
   * it missed, keeps its pending events and returns the conflict: calling again then continues the new head.
   */
  async commitChanges(commitId?: string): Promise<E.Either<StreamError, O.Option<Commit>>> {
    const step = await commitStream(this.store, this.current, commitId, this.options)
    this.current = step.state
    return step.result
  }

  /** Drops pending events and headers. */
  clearChanges(): this {
    this.current = S.clearChanges(this.current)
    return this
  }
}
