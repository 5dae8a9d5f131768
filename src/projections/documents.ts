import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { idProblem } from '../eventstore/adapter/ids.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import { invalidArgument, storageError, type InvalidArgument, type StorageError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import type { DocumentChange, DocumentKey, DocumentKeeping, ProjectionDocuments } from '../eventstore/projectionStore.js'
import type { DecodedCommit } from '../subscriptions/options.js'
import type { EventMeta } from './define.js'
import type { ProjectionRejected } from './errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A document projection: a read model as JSON documents, one per id that `id` derives from an event, evolved by a
 * pure `evolve(document | undefined, event) => document | undefined` (`undefined` deletes it). The documents live
 * in a table of the store's database that the kit owns, keyed by projection, the commit's tenant and the id.
 */
export interface DocumentProjection<Ev extends { readonly type: string }, D extends Json> {
  readonly kind: 'documents'
  readonly name: string
  readonly topics: TopicMap<Ev>
  readonly id: (event: Ev, meta: EventMeta) => string
  readonly evolve: (document: D | undefined, event: Ev, meta: EventMeta) => D | undefined
}

export interface DocumentProjectionDefinition<Ev extends { readonly type: string }, D extends Json> {
  readonly name: string
  readonly topics: TopicMap<Ev>
  /** The id of the document an event changes: a non-empty storable string (at most 1,024 bytes of UTF-8). */
  readonly id: (event: Ev, meta: EventMeta) => string
  /** Pure: the document after the event (`undefined`: deleted, or still absent). A throw refuses the event. */
  readonly evolve: (document: NoInfer<D> | undefined, event: Ev, meta: EventMeta) => D | undefined
}

/** A document as read back: its tenant (the tenant of the commits that wrote it), id and value. */
export interface Document<D extends Json> {
  readonly tenantId: string
  readonly id: string
  readonly document: D
}

/** Defines a document projection (pure: nothing runs until `startProjection`). */
export const documentProjection = <Ev extends { readonly type: string }, D extends Json>(
  definition: DocumentProjectionDefinition<Ev, D>,
): DocumentProjection<Ev, D> => ({ kind: 'documents', name: definition.name, topics: definition.topics, id: definition.id, evolve: definition.evolve })

// -------------------------------------------------------------------------------------
// JSON
// -------------------------------------------------------------------------------------

/**
 * Why a value would not read back exactly as JSON text, or `undefined`: only null, booleans, finite numbers (not
 * -0, which JSON text writes as 0), strings, arrays and plain objects do.
 */
export const jsonProblem = (value: unknown, path = '$'): string | undefined => {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? undefined : `${path} is ${String(value)}, which JSON cannot hold exactly`
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i], `${path}[${i}]`)
      if (p !== undefined) return p
    }
    return undefined
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`
    for (const [k, v] of Object.entries(value)) {
      const p = jsonProblem(v, `${path}[${JSON.stringify(k)}]`)
      if (p !== undefined) return p
    }
    return undefined
  }
  return `${path} is a ${typeof value}, not JSON`
}

/** Deep equality of two JSON values (object keys in any order). */
export const jsonEqual = (a: Json | undefined, b: Json | undefined): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || a === undefined || b === undefined) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => jsonEqual(x, (b as readonly Json[])[i]))
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]))
}

// -------------------------------------------------------------------------------------
// applying
// -------------------------------------------------------------------------------------

type Threw = ProjectionRejected['error']

const refusal = (name: string, commit: DecodedCommit<{ readonly type: string }>, eventType: string, index: number, error: Threw): E.Either<ProjectionRejected, never> =>
  E.left({ _tag: 'ProjectionRejected', name, checkpointToken: commit.checkpointToken, tenantId: commit.tenantId, streamId: commit.streamId, eventType, index, error })

const threw = (message: string): Threw => ({ _tag: 'Threw', thrown: new TypeError(message) })

interface Step {
  readonly key: DocumentKey
  readonly event: { readonly type: string }
  readonly meta: EventMeta
}

/** The steps of one commit (its events with their document keys), or the refusal of the first bad id. */
const stepsOf = (
  p: DocumentProjection<{ readonly type: string }, Json>,
  commit: DecodedCommit<{ readonly type: string }>,
): E.Either<ProjectionRejected, Step[]> => {
  const { events, ...metadata } = commit
  const steps: Step[] = []
  for (let index = 0; index < events.length; index++) {
    const { event, headers } = events[index] as (typeof events)[number]
    const meta: EventMeta = { commit: metadata, headers, index }
    let id: unknown
    try {
      id = p.id(event, meta)
    } catch (thrown) {
      return refusal(p.name, commit, event.type, index, { _tag: 'Threw', thrown })
    }
    const problem = idProblem('streamId', id)
    if (problem !== undefined) return refusal(p.name, commit, event.type, index, threw(`the document id: ${problem.replace('streamId', 'id')}`))
    steps.push({ key: { projection: p.name, tenantId: commit.tenantId, id: id as string }, event, meta })
  }
  return E.right(steps)
}

/** The next JSON text of a document (`undefined`: delete), or why the event is refused. */
const evolveText = (p: DocumentProjection<{ readonly type: string }, Json>, step: Step, stored: string | undefined): E.Either<Threw, string | undefined> => {
  try {
    const current = stored === undefined ? undefined : (JSON.parse(stored) as Json)
    const next = p.evolve(current, step.event, step.meta)
    if (next === undefined) return E.right(undefined)
    const problem = jsonProblem(next)
    return problem === undefined ? E.right(JSON.stringify(next)) : E.left(threw(`evolve answered a document that is not exact JSON: ${problem}`))
  } catch (thrown) {
    return E.left({ _tag: 'Threw', thrown })
  }
}

/** Applies a commit's events to their documents on a synchronous store (SQLite), in the projection's transaction. */
export const applyDocumentsSync =
  (p: DocumentProjection<{ readonly type: string }, Json>, docs: ProjectionDocuments<unknown, 'sync'>) =>
  (tx: unknown, commit: DecodedCommit<{ readonly type: string }>): E.Either<ProjectionRejected, void> => {
    const steps = stepsOf(p, commit)
    if (E.isLeft(steps)) return steps
    for (const step of steps.right) {
      const next = evolveText(p, step, docs.load(tx, step.key))
      if (E.isLeft(next)) return refusal(p.name, commit, step.event.type, step.meta.index, next.left)
      docs.save(tx, step.key, next.right)
    }
    return E.right(undefined)
  }

/** Applies a commit's events to their documents on an asynchronous store, in the projection's transaction. */
export const applyDocumentsAsync =
  (p: DocumentProjection<{ readonly type: string }, Json>, docs: ProjectionDocuments<unknown, 'async'>) =>
  async (tx: unknown, commit: DecodedCommit<{ readonly type: string }>): Promise<E.Either<ProjectionRejected, void>> => {
    const steps = stepsOf(p, commit)
    if (E.isLeft(steps)) return steps
    for (const step of steps.right) {
      const next = evolveText(p, step, await docs.load(tx, step.key))
      if (E.isLeft(next)) return refusal(p.name, commit, step.event.type, step.meta.index, next.left)
      await docs.save(tx, step.key, next.right)
    }
    return E.right(undefined)
  }

/**
 * The documents a commit changes, for a store without transactions (DynamoDB): one change per document, in the
 * order of their first event, each folding the commit's events of that document over its stored text; or the
 * refusal of the first bad id. The store reads, changes and writes each document conditionally.
 */
export const documentChanges =
  (p: DocumentProjection<{ readonly type: string }, Json>) =>
  (commit: DecodedCommit<{ readonly type: string }>): E.Either<ProjectionRejected, DocumentChange<ProjectionRejected>[]> => {
    const steps = stepsOf(p, commit)
    if (E.isLeft(steps)) return steps
    // Grouped by the key's parts, as JSON of the array (never a joined string that an id could forge).
    const byKey = new Map<string, Step[]>()
    for (const step of steps.right) {
      const k = JSON.stringify([step.key.tenantId, step.key.id])
      const group = byKey.get(k)
      if (group === undefined) byKey.set(k, [step])
      else group.push(step)
    }
    return E.right(
      [...byKey.values()].map((group) => ({
        key: (group[0] as Step).key,
        next: (stored: string | undefined): E.Either<ProjectionRejected, string | undefined> => {
          let text = stored
          for (const step of group) {
            const next = evolveText(p, step, text)
            if (E.isLeft(next)) return refusal(p.name, commit, step.event.type, step.meta.index, next.left)
            text = next.right
          }
          return E.right(text)
        },
      })),
    )
  }

// -------------------------------------------------------------------------------------
// reading
// -------------------------------------------------------------------------------------

/** Reads of a document projection's documents (what its transactions committed). Every call answers a value. */
export interface DocumentReader<D extends Json> {
  /** The document `id` of `tenantId`, if there is one. */
  get(tenantId: string, id: string): Promise<E.Either<StorageError | InvalidArgument, O.Option<D>>>
  /** Every document (of one tenant, or of all), read in pages; the order is the store's key order. */
  all(options?: { readonly tenantId?: string }): Promise<E.Either<StorageError | InvalidArgument, readonly Document<D>[]>>
  /** The documents whose top-level `field` equals `value` (deep JSON equality); read by scanning them all. */
  where(field: string, value: Json, options?: { readonly tenantId?: string }): Promise<E.Either<StorageError | InvalidArgument, readonly Document<D>[]>>
}

const PAGE = 500

const invalid = Symbol('invalid')
/** The `tenantId` of an options argument (`undefined`: none), or `invalid` when it is not an object. */
const tenantOption = (options: unknown): string | undefined | typeof invalid => {
  if (options === undefined) return undefined
  if (typeof options !== 'object' || options === null) return invalid
  return (options as { tenantId?: string }).tenantId
}

/** The reader of a document projection's documents on a store that keeps them. */
export const documentsOf = <Ev extends { readonly type: string }, D extends Json>(
  store: DocumentKeeping,
  projection: DocumentProjection<Ev, D>,
): DocumentReader<D> => {
  const name = projection.name
  const docs = (store as Partial<DocumentKeeping> | null)?.projections?.documents
  const bad = (reason: string) => Promise.resolve(E.left(invalidArgument('documents', reason)))
  const parse = (json: string): D => JSON.parse(json) as D
  const tenantCheck = (tenantId: unknown) => (tenantId === undefined ? undefined : idProblem('tenantId', tenantId))
  const all = async (tenantId: string | undefined, keep: (d: D) => boolean): Promise<E.Either<StorageError | InvalidArgument, readonly Document<D>[]>> => {
    if (docs === undefined) return bad('store must keep projections (SQLite, PostgreSQL, MySQL, DynamoDB)')
    const problem = tenantCheck(tenantId)
    if (problem !== undefined) return bad(problem)
    const out: Document<D>[] = []
    let after: string | undefined
    for (;;) {
      let page
      try {
        page = await docs.page(name, tenantId, after, PAGE)
      } catch (cause) {
        return E.left(storageError('documents', cause))
      }
      if (E.isLeft(page)) return page
      for (const d of page.right.documents) {
        let document: D
        try {
          document = parse(d.json)
        } catch (cause) {
          return E.left(storageError('documents', cause))
        }
        if (keep(document)) out.push({ tenantId: d.tenantId, id: d.id, document })
      }
      if (page.right.next === undefined) return E.right(out)
      after = page.right.next
    }
  }
  return {
    get: async (tenantId, id) => {
      if (docs === undefined) return bad('store must keep projections (SQLite, PostgreSQL, MySQL, DynamoDB)')
      const problem = idProblem('tenantId', tenantId) ?? idProblem('streamId', id)?.replace('streamId', 'id')
      if (problem !== undefined) return bad(problem)
      try {
        const got = await docs.get({ projection: name, tenantId, id })
        return E.isLeft(got) ? got : E.right(O.map(parse)(got.right))
      } catch (cause) {
        return E.left(storageError('documents', cause))
      }
    },
    all: (options) => {
      const tenant = tenantOption(options)
      return tenant === invalid ? bad('options must be an object') : all(tenant, () => true)
    },
    where: (field, value, options) => {
      const tenant = tenantOption(options)
      if (tenant === invalid) return bad('options must be an object')
      if (typeof field !== 'string') return bad('field must be a string')
      const problem = jsonProblem(value)
      if (problem !== undefined) return bad(problem)
      return all(tenant, (d) => typeof d === 'object' && d !== null && !Array.isArray(d) && Object.hasOwn(d, field) && jsonEqual((d as Record<string, Json>)[field], value))
    },
  }
}
