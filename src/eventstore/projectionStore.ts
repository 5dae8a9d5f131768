import type { Either } from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { Commit } from './Commit.js'
import type { HookRejected, StorageError } from './errors.js'
import type { LeaseLost } from './subscriptionStore.js'

/**
 * How a store runs a projection's handlers: `'sync'` (SQLite: better-sqlite3's transactions cannot span an `await`,
 * and the connection is shared with appends) or `'async'` (PostgreSQL, MySQL: a client checked out for the
 * transaction).
 */
export type ProjectionMode = 'sync' | 'async'

/** What applying one item answers: at once on a `'sync'` store, as a promise on an `'async'` one. */
export type ProjectionApplied<Mode extends ProjectionMode, F> = Mode extends 'sync' ? Either<F, void> : Promise<Either<F, void>>

/** The lease a projection's transaction is fenced by: the same name, holder and epoch as a subscription checkpoint write. */
export interface ProjectionFence {
  readonly name: string
  readonly holder: string
  readonly epoch: number
}

/**
 * What a store does for transactional projections (`aett/projections`): apply items and move the checkpoint in
 * ONE database transaction, so that a projection's read-model writes and its checkpoint commit or roll back
 * together. `Tx` is the driver's own transaction handle that the handlers receive.
 */
export interface ProjectionStore<Tx, Mode extends ProjectionMode> {
  readonly mode: Mode
  /**
   * In one transaction: checks the fence (the stored lease of `fence.name` has this holder and epoch and was not
   * released; otherwise `LeaseLost` and nothing is written), reads the stored checkpoint `P` (a single shard),
   * calls `apply(tx, item)` for each item whose token is after `P`, or that is parked for the name (a replay; its
   * parked record is removed in the same transaction), skips the others (already applied: a repeat after an
   * ambiguous commit), and stores the checkpoint `max(P, position)`: it never moves back. A `Left` from `apply` (or
   * a throw, which `apply` must not do) rolls everything back and is answered as it is.
   */
  transact<I extends { readonly checkpointToken: number }, F>(
    fence: ProjectionFence,
    position: number,
    items: readonly I[],
    apply: (tx: Tx, item: I) => ProjectionApplied<Mode, F>,
    /** `reset`: store exactly `position` (a fenced reset that may move the checkpoint back), not `max(P, position)`. */
    options?: { readonly reset?: boolean },
  ): Promise<Either<StorageError | LeaseLost | F, void>>
  /** The documents of document projections. */
  readonly documents: ProjectionDocuments<Tx, Mode>
  /**
   * Registers an inline projection (where the store has them: SQLite, PostgreSQL, MySQL/MariaDB): `apply` runs inside the
   * append's own transaction (on SQLite with group commit, in the append's own savepoint) after the commit row was
   * written; a `Left` rolls the append back and the append answers it. Answers the call that unregisters it.
   */
  readonly inline?: (apply: (tx: Tx, commit: Commit) => ProjectionApplied<Mode, HookRejected>) => Promise<Either<StorageError, () => void>>
}

/** What a value of a projection's transaction is: at once on a `'sync'` store, a promise on an `'async'` one. */
export type ProjectionValue<Mode extends ProjectionMode, A> = Mode extends 'sync' ? A : Promise<A>

/**
 * Where a document of a document projection lives: the projection, the tenant of the commit that wrote it, and the
 * id its `id` function gave. Three separate columns (never joined into one string), so that no id can reach
 * another projection's or tenant's documents.
 */
export interface DocumentKey {
  readonly projection: string
  readonly tenantId: string
  readonly id: string
}

/** A stored document, as JSON text. */
export interface StoredDocument {
  readonly tenantId: string
  readonly id: string
  readonly json: string
}

/** A page of a projection's documents, and where the next one starts (`undefined`: that was the last). */
export interface DocumentPage {
  readonly documents: readonly StoredDocument[]
  readonly next: string | undefined
}

/** The reads of document projections' documents, on every store that keeps them (outside any transaction). */
export interface DocumentReads {
  get(key: DocumentKey): Promise<Either<StorageError, Option<string>>>
  /** Up to `limit` documents of `projection` (of one tenant, or all), after the opaque cursor `after`. */
  page(projection: string, tenantId: string | undefined, after: string | undefined, limit: number): Promise<Either<StorageError, DocumentPage>>
}

/**
 * The documents of document projections, in a table of the store's database that the kit owns (schema version 3).
 * `load`/`save` run inside a projection's transaction (on its `tx`) and throw the driver's error; the reads outside
 * a transaction answer values.
 */
export interface ProjectionDocuments<Tx, Mode extends ProjectionMode> extends DocumentReads {
  load(tx: Tx, key: DocumentKey): ProjectionValue<Mode, string | undefined>
  /** Stores the JSON text, or deletes the document (`undefined`). */
  save(tx: Tx, key: DocumentKey, json: string | undefined): ProjectionValue<Mode, void>
  /** Removes every document of `projection` (inside a projection's transaction). */
  clear(tx: Tx, projection: string): ProjectionValue<Mode, void>
  /** Gives every document of `from` to `to` (inside a projection's transaction; `to` has none left by then). */
  rename(tx: Tx, from: string, to: string): ProjectionValue<Mode, void>
}

/** A store that runs transactional projections: SQLite, PostgreSQL, MySQL/MariaDB. */
export interface Projectable<Tx, Mode extends ProjectionMode> {
  readonly projections: ProjectionStore<Tx, Mode>
}

/**
 * One document that a commit changes: its key, and its next JSON text from the stored one (`undefined`: absent or
 * deleted), or why the commit is refused. Pure: a store may call it again on a retry.
 */
export interface DocumentChange<F> {
  readonly key: DocumentKey
  readonly next: (stored: string | undefined) => Either<F, string | undefined>
}

/**
 * What a store WITHOUT transactions does for document projections (DynamoDB: its emulator dynalite has no
 * `TransactWriteItems`, and the store uses none): no batch is one transaction. Instead every document remembers
 * the checkpoint token of the last commit applied to it, and applying a commit to a document is ONE conditional
 * write on that token, so that a commit applied again (after a crash, a retry, a takeover) is skipped, document by
 * document: exactly once in effect per document. A reader may see some documents of a batch applied and others
 * not yet. Transactional projections (handlers on a driver transaction) do not run on such a store.
 */
export interface ConditionalProjectionStore {
  readonly mode: 'conditional'
  readonly documents: DocumentReads
  /**
   * Reads the stored checkpoint `P` and the parked tokens of `fence.name`, then for each item whose token is after
   * `P`, or that is parked (a replay), writes every document of `changes(item)`: each read, changed by `next` and
   * written back on condition that it is as read, unless it already holds the item (its token is at or past the
   * item's; a replay: the token is among its replayed ones), which skips it. Then unparks the replays and stores
   * the checkpoint `max(P, position)`, both fenced (`LeaseLost` otherwise; the documents written stay, and are
   * skipped when applied again). A `Left` from `changes` or `next` stops before that item's first write and is
   * answered as it is; the checkpoint does not move.
   */
  applyDocuments<I extends { readonly checkpointToken: number }, F>(
    fence: ProjectionFence,
    position: number,
    items: readonly I[],
    changes: (item: I) => Either<F, readonly DocumentChange<F>[]>,
  ): Promise<Either<StorageError | LeaseLost | F, void>>
}

/** A store whose document projections write one conditional write per document and commit: DynamoDB. */
export interface ConditionallyProjectable {
  readonly projections: ConditionalProjectionStore
}

/** A store whose documents can be read: every store that keeps document projections. */
export interface DocumentKeeping {
  readonly projections: { readonly documents: DocumentReads }
}

/** The one shard of a checkpoint of the SQL stores (SEMANTICS 7), as the projection transactions read it. */
export const singleShardPosition = (positions: Readonly<Record<string, number>> | undefined): number => {
  const p = positions?.['0']
  return typeof p === 'number' && Number.isSafeInteger(p) && p > 0 ? p : 0
}
