import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DateFromISOString } from './DateCodec.js'
import { fastDecoder } from './fastDecode.js'
import type { EventHistory } from './versioning.js'

/**
 * The fields every domain event carries (the seed's `DomainEvent`): the aggregate's id, the version it was
 * raised at, when, and an optional correlation id. The repository stamps `id` (the stream id) and `version` (the
 * event's revision) on append, so new events may leave them out (`NewEvent`); stored and loaded events carry them.
 */
export interface EventMeta {
  readonly id: string
  readonly version: number
  readonly timestamp: Date
  readonly correlationId?: string
}

/** The fields of a domain event: its topic, the meta fields and its own. */
type EventFieldsOf<T extends string, F> = { type: T } & EventMeta & F

/**
 * A domain event: a readonly plain value whose `type` names its topic. (A mapped type rather than
 * `Readonly<…>`, so that hovers and errors read `DomainEvent<"Deposited", { amount: number }>`.)
 */
export type DomainEvent<T extends string = string, F = {}> = { readonly [K in keyof EventFieldsOf<T, F>]: EventFieldsOf<T, F>[K] }

/** The event with `id` and `version` left optional; other events as they are. */
type Unstamped<Ev> = Ev extends { readonly id: string; readonly version: number }
  ? Omit<Ev, 'id' | 'version'> & { readonly id?: string; readonly version?: number }
  : Ev

/**
 * An event as `decide` returns it and as a test writes it: `id` and `version` may be left out, because the
 * repository stamps them on append (the stream id, and the event's revision in the stream), whatever they were.
 * Events as stored and loaded (`Ev`) always carry them; every `Ev` is a `NewEvent<Ev>`. Events without those fields
 * (plain events) are unchanged: `NewEvent<Ev>` is then `Ev`.
 */
export type NewEvent<Ev> = Ev | Unstamped<Ev>

/** What `create` takes: the event's fields without `type`, with `id` and `version` optional. */
export type NewEventFields<A> = Omit<A, 'type' | 'id' | 'version'> & { readonly id?: string; readonly version?: number }

/** An event's type, its codec, and a constructor, all from one definition. */
export interface EventDefinition<T extends string, A extends { readonly type: T }, O = unknown> {
  readonly topic: T
  readonly codec: t.Type<A, O, unknown>
  /**
   * Builds the event; `type` is filled in. With `id` and `version` it is a complete event (`A`); without them it
   * is a `NewEvent<A>`, what `decide` returns and the repository stamps on append.
   */
  readonly create: {
    (fields: Omit<A, 'type'>): A
    (fields: NewEventFields<A>): NewEvent<A>
  }
  readonly is: (u: unknown) => u is A
}

/** What a definition defines; `never` for anything else. */
type DefinedEvent<D> = D extends EventDefinition<string, infer A, unknown> ? A : never

/**
 * The event type of a definition: `type Deposited = EventOf<typeof Deposited>`, which hovers and errors then show
 * as `Deposited` (a mapped type takes the name of the alias it is declared as). Takes one definition; for several,
 * write the union of their `EventOf`s.
 */
export type EventOf<D extends { readonly codec: t.Decoder<unknown, { readonly type: string }> }> = {
  [K in keyof DefinedEvent<D>]: DefinedEvent<D>[K]
}


// -------------------------------------------------------------------------------------
// versions
// -------------------------------------------------------------------------------------

/** The own fields a version's io-ts props describe. */
export type FieldsOf<P extends t.Props> = t.TypeOf<t.TypeC<P>>

/** How an event of props `P` is stored (the codec's output). */
export type EncodedEventOf<T extends string, P extends t.Props> = t.OutputOf<t.TypeC<P>> & {
  type: T
  id: string
  version: number
  timestamp: string
  correlationId?: string
}

/** The last member of a history: the current version's own fields. */
type Last<Vs extends readonly unknown[]> = Vs extends readonly [...unknown[], infer L] ? L : never

/** The schema versions of a history `[F1, F2, ...]`: `1 | 2 | ...` up to its length. */
export type SchemaVersions<Vs extends readonly unknown[]> = Vs extends readonly [...infer Earlier, unknown] ? Vs['length'] | SchemaVersions<Earlier> : never

/** The own fields of version `N` of a history (version 1 is its first member). */
export type FieldsAt<Vs extends readonly unknown[], N extends number> = [never, ...Vs] extends infer W extends readonly unknown[]
  ? N extends keyof W
    ? W[N]
    : never
  : never

/**
 * An event definition with its history: what `defineEvent` returns. `Vs` lists the own fields of every schema
 * version, oldest first; the definition's `codec`, `create` and `is` are the current (last) version's. Every
 * method returns a new definition and leaves this one as it is.
 *
 * @example
 * const BookAdded = defineEvent('BookAdded', { title: t.string }) // version 1
 *   .nextVersion({ title: t.string, author: t.string }, (v1) => ({ title: v1.title, author: 'unknown' })) // 2
 *   .renamedFrom('BookCreated')
 */
export interface VersionedEvent<T extends string, Vs extends readonly unknown[], O = unknown>
  extends EventDefinition<T, DomainEvent<T, Last<Vs>>, O> {
  /** The current schema version: 1 for an event without history. */
  readonly version: Vs['length']
  /** What the topic map reads: every version's codec and step, former topics, the version written. */
  readonly history: EventHistory
  /**
   * Declares the next schema version: its own fields, and a pure step from an event of the current version to
   * them (the meta fields `type`, `id`, `version`, `timestamp` and `correlationId` are carried over, whatever the
   * step returns). Stored events of any earlier version are decoded by their own version's codec and brought up
   * to the newest through every step in turn.
   */
  readonly nextVersion: <P extends t.Props>(
    props: P,
    upcast: (previous: DomainEvent<T, Last<Vs>>) => FieldsOf<P>,
  ) => VersionedEvent<T, readonly [...Vs, FieldsOf<P>], EncodedEventOf<T, P>>
  /** Names this topic had before: stored events of those topics decode as this one (of the version they were written at). */
  readonly renamedFrom: (...formerTopics: readonly [string, ...string[]]) => VersionedEvent<T, Vs, O>
  /**
   * Writes events as schema version `version` rather than the current one, turned into it by `downcast` (blue/green
   * deployments, where readers that know only that version still run). Readers of this definition read both.
   */
  readonly writeVersion: <N extends SchemaVersions<Vs>>(
    version: N,
    downcast: (current: DomainEvent<T, Last<Vs>>) => FieldsAt<Vs, N>,
  ) => VersionedEvent<T, Vs, O>
}

const metaProps = { id: t.string, version: t.number, timestamp: DateFromISOString }
const optionalMeta = t.partial({ correlationId: t.string })

/** `correlationId` is optional: absent, undefined or a string. */
const correlationIdOk = (u: unknown): boolean => {
  const cid = (u as { readonly correlationId?: unknown }).correlationId
  return cid === undefined || typeof cid === 'string'
}

/** The codec of one version of an event: its topic, the meta fields and its own, named `name` in error paths. */
const eventCodec = <A>(topic: string, props: t.Props, name: string): t.Type<A, unknown, unknown> => {
  const allProps = { type: t.literal(topic), ...metaProps, ...props }
  const required = t.type(allProps, name)
  const fast = fastDecoder(allProps)
  // An intersection in shape (so tools such as `aett/testing`'s arbitraries can read its members), but decoded as
  // one object codec plus a check of the optional field: `t.intersection` would decode the value once per member
  // and merge the results, and loading a stream decodes every event.
  const codec = new t.IntersectionType<[typeof required, typeof optionalMeta], A, unknown, unknown>(
    name,
    (u): u is A => required.is(u) && correlationIdOk(u),
    (u, c) => {
      const decoded = fast(u)
      if (decoded !== undefined && correlationIdOk(u)) return E.right(decoded as A)
      // Contexts name the member, as `t.intersection` does, so error paths read the same (`Deposited/amount`).
      // Every failing field is reported, the optional one included.
      const r = required.validate(u, t.appendContext(c, '0', required, u))
      if (correlationIdOk(u)) return r as t.Validation<A>
      const cid = (u as { readonly correlationId?: unknown }).correlationId
      const member = t.appendContext(c, '1', optionalMeta, u)
      const bad: t.ValidationError = { value: cid, context: t.appendContext(member, 'correlationId', t.string, cid) }
      return E.left(E.isLeft(r) ? [...r.left, bad] : [bad])
    },
    (a) => required.encode(a as never),
    [required, optionalMeta],
  )
  return codec
}

type Step = (event: never) => unknown

interface Versions {
  readonly props: readonly t.Props[]
  readonly upcasts: readonly Step[]
  readonly formerTopics: readonly string[]
  readonly writeVersion: number
  readonly downcast: Step | undefined
}

/** Builds a definition from its versions; every method builds a new one. */
const build = (topic: string, v: Versions): VersionedEvent<string, readonly unknown[]> => {
  const current = v.props.length
  // The current version's codec is named after the topic (`Deposited/amount`); earlier ones after their version.
  const codecs = v.props.map((props, i) => eventCodec(topic, props, i + 1 === current ? topic : `${topic}@v${i + 1}`))
  const codec = codecs[current - 1] as t.Type<{ readonly type: string }, unknown, unknown>
  const history: EventHistory = {
    topic,
    codecs,
    upcasts: v.upcasts as EventHistory['upcasts'],
    formerTopics: v.formerTopics,
    writeVersion: v.writeVersion,
    downcast: v.downcast as EventHistory['downcast'],
  }
  const create = (fields: object) => ({ type: topic, ...fields })
  const definition = {
    topic,
    codec,
    create,
    is: (u: unknown) => codec.is(u),
    version: current,
    history,
    nextVersion: (props: t.Props, upcast: Step) =>
      // A new version is written from now on; a `writeVersion` of the old current version no longer describes it.
      build(topic, { ...v, props: [...v.props, props], upcasts: [...v.upcasts, upcast], writeVersion: current + 1, downcast: undefined }),
    renamedFrom: (...formerTopics: readonly string[]) =>
      build(topic, { ...v, formerTopics: [...new Set([...v.formerTopics, ...formerTopics])].filter((f) => f !== topic) }),
    writeVersion: (version: number, downcast: Step) => {
      // The types allow only versions the event has; a cast that gets past them would write bodies nobody can read.
      if (!Number.isSafeInteger(version) || version < 1 || version > current) {
        throw new RangeError(`${topic}: writeVersion(${String(version)}): the event has versions 1 to ${current}`)
      }
      return build(topic, { ...v, writeVersion: version, downcast: version === current ? undefined : downcast })
    },
  }
  return definition as never
}

/**
 * Defines an event from its topic and its own fields as io-ts props. The codec is named after the topic, so
 * decode errors read `Deposited/amount`; unknown fields on read are kept, protecting what newer writers added.
 * The definition is schema version 1 of the event; `nextVersion` declares the next one (see `VersionedEvent`).
 *
 * @example
 * const Deposited = defineEvent('Deposited', { amount: t.number })
 * type Deposited = EventOf<typeof Deposited>
 * const e = Deposited.create({ timestamp: new Date(), amount: 10 }) // NewEvent<Deposited>: what `decide` returns
 * const stored = Deposited.create({ id: 'acc-1', version: 1, timestamp: new Date(), amount: 10 }) // Deposited
 */
export const defineEvent = <T extends string, P extends t.Props>(
  topic: T,
  props: P,
): VersionedEvent<T, readonly [FieldsOf<P>], EncodedEventOf<T, P>> =>
  build(topic, { props: [props], upcasts: [], formerTopics: [], writeVersion: 1, downcast: undefined }) as never
