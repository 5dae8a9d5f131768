import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import { hookRejected, invalidArgument, type HookRejected, type InvalidArgument, type StorageError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import type { Projectable, ProjectionApplied, ProjectionDocuments, ProjectionMode } from '../eventstore/projectionStore.js'
import type { DecodedCommit } from '../subscriptions/options.js'
import { preparer } from '../subscriptions/source.js'
import type { Projection } from './define.js'
import { applyDocumentsAsync, applyDocumentsSync, type DocumentProjection } from './documents.js'
import type { ProjectionRejected } from './errors.js'
import { applyAsync, applySync } from './run.js'

/** Why an inline projection refused an append, as the append's `HookRejected.details`. */
const rejected = (name: string, commit: Commit, reason: string, details: unknown): HookRejected => hookRejected(commit, `projection:${name}`, reason, details)

const reasonOf = (r: ProjectionRejected): string => {
  const e = r.error
  const what = e._tag === 'Left' ? JSON.stringify(e.left) ?? String(e.left) : e.thrown instanceof Error ? e.thrown.message : String(e.thrown)
  return `the inline projection ${JSON.stringify(r.name)} refused event ${r.index} (${r.eventType}): ${what}`
}

/**
 * Runs a projection **inline**: inside every later append's own transaction on this store object (SQLite, in the
 * append's savepoint under group commit; PostgreSQL; MySQL/MariaDB, in an explicit transaction on one pooled
 * connection instead of the one-round-trip routine), so that the read model is consistent with the stream the
 * moment the append returns. When the projection refuses (a handler's `Left` or throw, an event of its topics
 * that does not decode, a document that is not exact JSON), the append fails with a `HookRejected` (`hook`:
 * `projection:<name>`, `details`: the `ProjectionRejected` or the decode error) and nothing of it is stored.
 *
 * Inline projections keep no checkpoint: they see exactly the commits appended through this store object while
 * they are registered. Commits appended before, or by another process or store object without it, are not
 * applied; run the same projection with `startProjection` (under another name) to catch those up, or register it
 * in every writer. Answers the call that unregisters it.
 */
export const inlineProjection = async <Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }, D extends Json>(
  store: Projectable<Tx, Mode>,
  projection: Projection<Tx, Mode, Ev> | DocumentProjection<Ev, D>,
): Promise<E.Either<InvalidArgument | StorageError, () => void>> => {
  const port = (store as Partial<Projectable<Tx, Mode>> | null)?.projections
  if ((port as { mode?: unknown } | undefined)?.mode === 'conditional')
    return E.left(invalidArgument('inlineProjection', 'this store runs no inline projections (SQLite and PostgreSQL do): a DynamoDB append is no transaction a projection could join'))
  if (port === undefined || typeof port.transact !== 'function') return E.left(invalidArgument('inlineProjection', 'store must keep projections'))
  if (typeof port.inline !== 'function') return E.left(invalidArgument('inlineProjection', 'this store runs no inline projections (SQLite, PostgreSQL and MySQL/MariaDB do)'))
  if (projection.kind === 'transactional' && projection.mode !== port.mode)
    return E.left(invalidArgument('inlineProjection', `a ${projection.mode} projection cannot run on a store whose projections are ${port.mode}`))
  const name = projection.name
  const prepare = preparer(name, { topics: projection.topics.topics }, 'stop', { topics: projection.topics, onError: 'stop' })
  const asDocuments = projection as unknown as DocumentProjection<{ readonly type: string }, Json>
  const handlers = (projection.kind === 'transactional' ? projection.handlers : {}) as Readonly<Record<string, unknown>>
  const apply =
    projection.kind === 'documents'
      ? port.mode === 'sync'
        ? applyDocumentsSync(asDocuments, port.documents as ProjectionDocuments<unknown, 'sync'>)
        : applyDocumentsAsync(asDocuments, port.documents as ProjectionDocuments<unknown, 'async'>)
      : port.mode === 'sync'
        ? applySync(name, handlers)
        : applyAsync(name, handlers)
  const judge = (commit: Commit, r: E.Either<ProjectionRejected, void>): E.Either<HookRejected, void> =>
    E.isLeft(r) ? E.left(rejected(name, commit, reasonOf(r.left), r.left)) : E.right(undefined)
  const run = (tx: Tx, commit: Commit): E.Either<HookRejected, void> | Promise<E.Either<HookRejected, void>> => {
    const p = prepare(commit)
    if (p.kind === 'skip') return E.right(undefined)
    if (p.kind !== 'deliver') return E.left(rejected(name, commit, `an event of the inline projection ${JSON.stringify(name)} did not decode`, p.error))
    const answer = apply(tx, p.item as DecodedCommit<{ readonly type: string }>)
    return answer instanceof Promise ? answer.then((r) => judge(commit, r)) : judge(commit, answer as E.Either<ProjectionRejected, void>)
  }
  return port.inline(run as (tx: Tx, commit: Commit) => ProjectionApplied<Mode, HookRejected>)
}
