import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DateFromISOString } from './DateCodec.js'
import { fastDecoder } from './fastDecode.js'

/**
 * The fields every domain event carries (the seed's `DomainEvent`): the aggregate's id, the version it was
 * raised at, when, and an optional correlation id.
 */
export interface EventMeta {
  readonly id: string
  readonly version: number
  readonly timestamp: Date
  readonly correlationId?: string
}

/** A domain event: a readonly plain value whose `type` names its topic. */
export type DomainEvent<T extends string = string, F = {}> = Readonly<{ type: T } & EventMeta & F>

/** An event's type, its codec, and a constructor, all from one definition. */
export interface EventDefinition<T extends string, A extends { readonly type: T }, O = unknown> {
  readonly topic: T
  readonly codec: t.Type<A, O, unknown>
  /** Builds the event; `type` is filled in. */
  readonly create: (fields: Omit<A, 'type'>) => A
  readonly is: (u: unknown) => u is A
}

/** The event type of a definition: `type Deposited = EventOf<typeof Deposited>`. */
export type EventOf<D> = D extends EventDefinition<string, infer A, unknown> ? A : never

const metaProps = { id: t.string, version: t.number, timestamp: DateFromISOString }
const optionalMeta = t.partial({ correlationId: t.string })

/** `correlationId` is optional: absent, undefined or a string. */
const correlationIdOk = (u: unknown): boolean => {
  const cid = (u as { readonly correlationId?: unknown }).correlationId
  return cid === undefined || typeof cid === 'string'
}

/**
 * Defines an event from its topic and its own fields as io-ts props. The codec is named after the topic, so
 * decode errors read `Deposited/amount`; unknown fields on read are kept, protecting what newer writers added.
 *
 * @example
 * const Deposited = defineEvent('Deposited', { amount: t.number })
 * type Deposited = EventOf<typeof Deposited>
 * const e = Deposited.create({ id: 'acc-1', version: 1, timestamp: new Date(), amount: 10 })
 */
export const defineEvent = <T extends string, P extends t.Props>(
  topic: T,
  props: P,
): EventDefinition<T, DomainEvent<T, t.TypeOf<t.TypeC<P>>>, t.OutputOf<t.TypeC<P>> & { type: T; id: string; version: number; timestamp: string; correlationId?: string }> => {
  type A = DomainEvent<T, t.TypeOf<t.TypeC<P>>>
  const allProps = { type: t.literal(topic), ...metaProps, ...props }
  const required = t.type(allProps, topic)
  const fast = fastDecoder(allProps)
  // An intersection in shape (so tools such as `aett/testing`'s arbitraries can read its members), but decoded as
  // one object codec plus a check of the optional field: `t.intersection` would decode the value once per member
  // and merge the results, and loading a stream decodes every event.
  const codec = new t.IntersectionType<[typeof required, typeof optionalMeta], A, unknown, unknown>(
    topic,
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
  const create = (fields: Omit<A, 'type'>): A => ({ type: topic, ...fields }) as A
  return {
    topic,
    codec: codec as unknown as t.Type<A, never, unknown>,
    create,
    is: (u: unknown): u is A => codec.is(u),
  } as never
}
