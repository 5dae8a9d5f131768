import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { fromIterable, paged, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import { run, selectRows, type MysqlContext } from './db.js'
import {
  isWellFormed,
  snapshotParameters,
  streamKey,
  tenantKey,
  toSnapshot,
  toStreamHead,
  type SnapshotRow,
  type StreamHeadRow,
} from './rows.js'
import { upperRevision } from '../eventstore/ports.js'

export const getSnapshot = async (
  ctx: MysqlContext,
  tenantId: string,
  streamId: string,
  maxRevision?: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  if (!isWellFormed(tenantId) || !isWellFormed(streamId)) return E.right(O.none)
  const max = upperRevision(maxRevision)
  const rows = await selectRows<SnapshotRow>(ctx, 'getSnapshot', ctx.statements.snapshotAtOrBelow, [
    streamKey(tenantId, streamId),
    max,
  ])
  if (E.isLeft(rows)) return rows
  const row = rows.right[0]
  if (row === undefined) return E.right(O.none)
  const snapshot = toSnapshot(row)
  return E.isLeft(snapshot) ? snapshot : E.right(O.some(snapshot.right))
}

/** Adds a snapshot; one at a revision that already has one replaces it (SEMANTICS 10). */
export const addSnapshot = async (ctx: MysqlContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  if (!isWellFormed(snapshot.tenantId) || !isWellFormed(snapshot.streamId)) {
    return E.left(storageError('addSnapshot', new Error('tenant and stream ids must be well-formed Unicode (no lone surrogates)')))
  }
  const pool = await ctx.pool()
  if (E.isLeft(pool)) return pool
  const done = await run(pool.right, 'addSnapshot', ctx.statements.saveSnapshot, snapshotParameters(snapshot))
  return E.isLeft(done) ? done : E.right(undefined)
}

interface HeadCursor {
  readonly streamKey: Buffer
}

/** Stream heads at least `threshold` revisions ahead of their newest snapshot, paged by stream key. */
export const streamsToSnapshot = (ctx: MysqlContext, tenantId: string, threshold: number): Reads<StreamHead> => {
  if (!isWellFormed(tenantId)) return fromIterable([])
  const key = tenantKey(tenantId)
  const fetch = async (cursor: HeadCursor, limit: number): Promise<E.Either<StorageError, readonly (StreamHead & HeadCursor)[]>> => {
    const rows = await selectRows<StreamHeadRow>(ctx, 'streamsToSnapshot', ctx.statements.streamsToSnapshot, [
      key,
      cursor.streamKey,
      key,
      threshold,
      limit,
    ])
    if (E.isLeft(rows)) return rows
    return E.right(rows.right.map((row) => ({ ...toStreamHead(row), streamKey: row.stream_key as Buffer })))
  }
  return stripCursor(paged<StreamHead & HeadCursor, HeadCursor>({ streamKey: Buffer.alloc(0) }, ctx.config.pageSize, fetch, (last) => last))
}

async function* stripCursor(reads: Reads<StreamHead & HeadCursor>): AsyncGenerator<E.Either<StorageError, StreamHead>> {
  for await (const r of reads) {
    if (E.isLeft(r)) {
      yield r
      return
    }
    const { streamKey: _cursor, ...head } = r.right
    yield E.right(head)
  }
}
