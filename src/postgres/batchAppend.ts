import * as E from 'fp-ts/lib/Either.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type HookRejected, type StorageError } from '../eventstore/errors.js'
import { num } from '../sql/rows.js'
import type { PgQueryable } from './config.js'
import { run, type Row } from './connection.js'
import type { Context } from './context.js'
import { sqlState, violatedConstraint } from './errors.js'
import { inlineOf, type InlineApply } from './inline.js'
import type { Statement } from './statements.js'

/**
 * Group commit on PostgreSQL (issue 18): several appends in one transaction, so one WAL flush, each checked on its
 * own. The tokens (`tokenScheme` in schema.ts) are the transaction's id times 256 plus the attempt's place in the
 * batch, so the stored ones come in the batch's order, and the horizon holds them all back until the transaction
 * ends (they share its id).
 *
 * Without inline projections a batch is one `appendMany` statement, on its own (autocommit: one round trip, as a
 * lone append), when every attempt is on a stream of its own; a batch holding a stream k times is k such
 * statements, its first attempts on each stream, then its second ones, ..., in one transaction: a statement sees
 * the rows of the statements before it, not its own.
 *
 * With inline projections every attempt runs `appendAt` and its projections inside a savepoint of the batch's
 * transaction: a projection that refuses, or a handler whose failed statement it swallowed, rolls back that
 * attempt only.
 *
 * A writer that raced past a statement's snapshot (another process, or another batch in flight, storing the same
 * sequence or commit id first) meets the unique constraints: that fails the whole statement, and the batch is
 * written again one append at a time (see commitStore.ts), each of which resolves its own race.
 *
 * A batch of several statements runs them in one READ COMMITTED transaction, whose id (and so its tokens) was
 * taken by its first insert; a later statement's snapshot may show a commit of a transaction with a higher id that
 * committed meanwhile. Storing a commit on top of such a head would give the stream's next commit a lower token
 * than the one before it: the log (token order) would hold the stream's commits out of their order, and a reader
 * would get sequence 2 before sequence 1. Every stored row is checked against its head's token (`overtook`); a
 * batch that did so is rolled back and written again one append at a time. A single statement cannot: its snapshot
 * is taken before its transaction has an id, so every commit it sees has a lower one.
 *
 * A refused attempt's row holds the head its statement saw; the commits it missed are read once the batch has
 * committed, and only those up to that head count (`collisions` in commitStore.ts): neither the later attempts of
 * its own transaction nor those of another batch in flight were there when it was checked.
 */

/** An attempt with the parameters of `append` (rows.ts, `appendParams`). */
export interface Prepared {
  readonly attempt: CommitAttempt
  readonly values: readonly unknown[]
}

/** What the store answered one attempt, before it is classified (commitStore.ts). */
export type Called =
  | { readonly row: Row }
  | { readonly rejected: HookRejected }
  | { readonly raced: true }
  | { readonly failed: StorageError }

const operation = 'commit'

/** A unique violation of the commits' sequence or commit id: another writer stored the same first. */
export const lostRace = (ctx: Context, e: StorageError): boolean => {
  const c = violatedConstraint(e.cause)
  return c === ctx.names.constraints.sequence || c === ctx.names.constraints.commitId
}

const deadlockDetected = '40P01'

/** The cause of a batch that stored a commit below its head's token (see `overtook`). */
class Overtaken extends Error {}

/**
 * Whether a stored row of a statement in a batch's transaction sits on a head with a higher token: the head's
 * transaction has a higher id than this one, took its id after this one did and committed before the statement.
 */
const overtook = (row: Row | undefined): boolean => {
  const token = row === undefined ? undefined : tokenOf(row)
  const head = row?.['head_token']
  return token !== undefined && head !== null && head !== undefined && num(head) >= token
}

const overtaken = (): StorageError =>
  storageError(operation, new Overtaken("a commit of the batch would have been stored below its stream's head, a commit of a later transaction"))

/**
 * Whether a failed batch is worth writing again one append at a time: it lost a race, a deadlock between batches,
 * or it was overtaken (a commit of it would have had a lower token than its head).
 */
export const retryAlone = (ctx: Context, e: StorageError): boolean =>
  lostRace(ctx, e) || sqlState(e.cause) === deadlockDetected || e.cause instanceof Overtaken

/** Runs the inline projections of a stored commit on the append's client; the first refusal, if any. */
export const project = async (client: PgQueryable, inline: readonly InlineApply[], stored: Commit): Promise<HookRejected | undefined> => {
  for (const apply of inline) {
    const r = await apply(client, stored)
    if (E.isLeft(r)) return r.left
  }
  return undefined
}

export const tokenOf = (row: Row): number | undefined => {
  const t = row['checkpoint_token']
  return t === null || t === undefined ? undefined : num(t)
}

/** The batch's indexes by round: each attempt's stream appears once per round, in batch order. */
const roundsOf = (batch: readonly Prepared[]): number[][] => {
  const seen = new Map<string, number>()
  const rounds: number[][] = []
  batch.forEach((p, i) => {
    const key = JSON.stringify([p.attempt.tenantId, p.attempt.streamId])
    const round = seen.get(key) ?? 0
    seen.set(key, round + 1)
    ;(rounds[round] ??= []).push(i)
  })
  return rounds
}

/** `appendMany`'s parameters: one array per column of `append`, then the ordinals. */
const columnsOf = (batch: readonly Prepared[], indexes: readonly number[]): unknown[] => {
  const columns: unknown[][] = Array.from({ length: 9 }, () => [])
  for (const i of indexes) (batch[i] as Prepared).values.forEach((v, k) => columns[k]?.push(v))
  return [...columns, indexes]
}

type Query = (statement: Statement, values: unknown[]) => Promise<E.Either<StorageError, readonly Row[]>>

/** One `appendMany` for the attempts at `indexes`; their rows land in `rows` at their indexes. */
const round = async (query: Query, ctx: Context, batch: readonly Prepared[], indexes: readonly number[], rows: Row[]): Promise<E.Either<StorageError, void>> => {
  const result = await query(ctx.sql.appendMany, columnsOf(batch, indexes))
  if (E.isLeft(result)) return result
  if (result.right.length !== indexes.length) return E.left(storageError(operation, new Error(`the batch statement returned ${result.right.length} rows for ${indexes.length} attempts`)))
  for (const row of result.right) rows[num(row['ordinal'])] = row
  return E.right(undefined)
}

const abortedMessage =
  "an inline projection's statement failed and its handler went on: the transaction was aborted, and this append " +
  'was rolled back to its savepoint (nothing of it was stored)'

const savepoint = 'aett_append'
const backToSavepoint = `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`

/** The batch with inline projections: each attempt and its projections inside a savepoint, in order. */
const appendEach = async (ctx: Context, client: PgQueryable, batch: readonly Prepared[], inline: readonly InlineApply[]): Promise<E.Either<StorageError, Called[]>> => {
  const out: Called[] = []
  const undo = async (answer: Called): Promise<E.Either<StorageError, void>> => {
    const back = await run(client, operation, backToSavepoint)
    if (E.isLeft(back)) return back
    out.push(answer)
    return E.right(undefined)
  }
  for (const [i, p] of batch.entries()) {
    const saved = await run(client, operation, `SAVEPOINT ${savepoint}`)
    if (E.isLeft(saved)) return saved
    const rows = await run(client, operation, ctx.sql.appendAt, [...p.values, i])
    if (E.isLeft(rows)) {
      if (!lostRace(ctx, rows.left)) return rows
      const undone = await undo({ raced: true })
      if (E.isLeft(undone)) return undone
      continue
    }
    const row = rows.right[0]
    if (row === undefined) return E.left(storageError(operation, new Error('the append statement returned no row')))
    if (overtook(row)) return E.left(overtaken())
    const token = tokenOf(row)
    const rejected = token === undefined ? undefined : await project(client, inline, { ...p.attempt, checkpointToken: token })
    if (rejected !== undefined) {
      const undone = await undo({ rejected })
      if (E.isLeft(undone)) return undone
      continue
    }
    const released = await run(client, operation, `RELEASE SAVEPOINT ${savepoint}`)
    if (E.isLeft(released)) {
      const undone = await undo({ failed: storageError(operation, new Error(abortedMessage, { cause: released.left.cause })) })
      if (E.isLeft(undone)) return undone
      continue
    }
    out.push({ row })
  }
  return E.right(out)
}

/** Appends `batch` in one transaction; one answer per attempt, in order, once it committed. */
export const appendBatch = async (ctx: Context, batch: readonly Prepared[]): Promise<E.Either<StorageError, readonly Called[]>> => {
  const inline = inlineOf(ctx)
  if (inline !== undefined) {
    const each = await ctx.db.transaction(operation, (client) => appendEach(ctx, client, batch, inline))
    return each
  }
  const rounds = roundsOf(batch)
  const rows: Row[] = new Array(batch.length)
  const written =
    rounds.length === 1
      ? await round((s, v) => ctx.db.query(operation, s, v), ctx, batch, rounds[0] as number[], rows)
      : await ctx.db.transaction(operation, async (client) => {
          for (const indexes of rounds) {
            const r = await round((s, v) => run(client, operation, s, v), ctx, batch, indexes, rows)
            if (E.isLeft(r)) return r
            if (indexes.some((i) => overtook(rows[i]))) return E.left(overtaken())
          }
          return E.right(undefined)
        })
  return E.isLeft(written) ? written : E.right(rows.map((row) => ({ row })))
}
