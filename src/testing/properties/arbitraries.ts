import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import type * as t from 'io-ts'
import { DateFromISOString } from '../../eventstore/codec/DateCodec.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A codec (or a part of one, at `path`) that `arbitraryFromCodec` cannot generate values for. */
export interface UnsupportedCodec {
  readonly _tag: 'UnsupportedCodec'
  readonly name: string
  readonly path: string
}

export const unsupportedCodec = (name: string, path: string): UnsupportedCodec => ({ _tag: 'UnsupportedCodec', name, path })

type AnyCodec = t.Type<unknown, unknown, unknown>
type Result = E.Either<UnsupportedCodec, fc.Arbitrary<unknown>>

// What io-ts codecs carry at run time; only the fields read below.
interface CodecShape {
  readonly _tag?: string
  readonly name: string
  readonly value?: unknown
  readonly keys?: Record<string, unknown>
  readonly types?: readonly AnyCodec[]
  readonly type?: AnyCodec
  readonly props?: Record<string, AnyCodec>
  readonly domain?: AnyCodec
  readonly codomain?: AnyCodec
  readonly predicate?: (u: unknown) => boolean
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Overrides for the arbitraries of primitive codecs. */
export interface ArbitraryOptions {
  /**
   * Numbers for `t.number`. By default integers and doubles within ±1e12, which survive a JSON round trip (no NaN,
   * no infinities, no -0) and leave room for sums: the full double range mostly finds overflow to `Infinity`.
   * Pass `fc.double({ noNaN: true, noDefaultInfinity: true })` to search it anyway.
   */
  readonly number?: fc.Arbitrary<number>
  /** Strings for `t.string`; `fc.string()` by default. */
  readonly string?: fc.Arbitrary<string>
}

const defaultNumber = fc
  .oneof(fc.integer(), fc.double({ min: -1e12, max: 1e12, noNaN: true }))
  .map((n) => (n === 0 ? 0 : n))
// Dates an ISO string can hold, at millisecond precision.
const isoDate = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('2999-12-31T23:59:59.999Z'), noInvalidDate: true })

interface Primitives {
  readonly number: fc.Arbitrary<number>
  readonly string: fc.Arbitrary<string>
}

const primitives = (options: ArbitraryOptions): Primitives => ({
  number: options.number ?? defaultNumber,
  string: options.string ?? fc.string(),
})

const all = (codecs: readonly AnyCodec[], path: string, p: Primitives): E.Either<UnsupportedCodec, fc.Arbitrary<unknown>[]> => {
  const out: fc.Arbitrary<unknown>[] = []
  for (const [i, c] of codecs.entries()) {
    const r = derive(c, `${path}/${i}`, p)
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

const props = (
  fields: Record<string, AnyCodec>,
  path: string,
  p: Primitives,
): E.Either<UnsupportedCodec, Record<string, fc.Arbitrary<unknown>>> => {
  const out: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [k, c] of Object.entries(fields)) {
    const r = derive(c, `${path}/${k}`, p)
    if (E.isLeft(r)) return r
    out[k] = r.right
  }
  return E.right(out)
}

const derive = (codec: AnyCodec, path: string, p: Primitives): Result => {
  if (codec === (DateFromISOString as unknown as AnyCodec)) return E.right(isoDate)
  const c = codec as unknown as CodecShape
  const unsupported = E.left(unsupportedCodec(c.name, path))
  switch (c._tag) {
    case 'StringType':
      return E.right(p.string)
    case 'NumberType':
      return E.right(p.number)
    case 'BooleanType':
      return E.right(fc.boolean())
    case 'NullType':
      return E.right(fc.constant(null))
    case 'UndefinedType':
    case 'VoidType':
      return E.right(fc.constant(undefined))
    case 'LiteralType':
      return E.right(fc.constant(c.value))
    case 'KeyofType':
      return c.keys === undefined || Object.keys(c.keys).length === 0 ? unsupported : E.right(fc.constantFrom(...Object.keys(c.keys)))
    case 'UnionType':
      return E.map((arbs: fc.Arbitrary<unknown>[]) => fc.oneof(...arbs))(all(c.types ?? [], path, p))
    case 'IntersectionType':
      return E.map((arbs: fc.Arbitrary<unknown>[]) =>
        fc.tuple(...arbs).map((parts) => Object.assign({}, ...parts.map((p) => (typeof p === 'object' && p !== null ? p : {})))),
      )(all(c.types ?? [], path, p))
    case 'TupleType':
      return E.map((arbs: fc.Arbitrary<unknown>[]) => fc.tuple(...arbs) as fc.Arbitrary<unknown>)(all(c.types ?? [], path, p))
    case 'InterfaceType':
    case 'StrictType':
      return E.map((r: Record<string, fc.Arbitrary<unknown>>) => fc.record(r) as fc.Arbitrary<unknown>)(props(c.props ?? {}, path, p))
    case 'PartialType':
      return E.map((r: Record<string, fc.Arbitrary<unknown>>) => fc.record(r, { requiredKeys: [] }) as fc.Arbitrary<unknown>)(
        props(c.props ?? {}, path, p),
      )
    case 'ArrayType':
    case 'ReadonlyArrayType':
      return c.type === undefined ? unsupported : E.map((a: fc.Arbitrary<unknown>) => fc.array(a, { maxLength: 5 }) as fc.Arbitrary<unknown>)(derive(c.type, path, p))
    case 'ReadonlyType':
    case 'ExactType':
      return c.type === undefined ? unsupported : derive(c.type, path, p)
    case 'DictionaryType': {
      if (c.domain === undefined || c.codomain === undefined || (c.domain as unknown as CodecShape)._tag !== 'StringType') return unsupported
      return E.map((v: fc.Arbitrary<unknown>) => fc.dictionary(p.string, v, { maxKeys: 5 }) as fc.Arbitrary<unknown>)(derive(c.codomain, path, p))
    }
    case 'RefinementType': {
      // io-ts's `Int` is a refinement of number; filtering doubles would almost never hit an integer.
      if (c.name === 'Int') return E.right(fc.integer())
      const predicate = c.predicate
      if (c.type === undefined || predicate === undefined) return unsupported
      return E.map((a: fc.Arbitrary<unknown>) => a.filter(predicate))(derive(c.type, path, p))
    }
    default:
      return unsupported
  }
}

/**
 * A fast-check arbitrary for the values an io-ts codec decodes to, covering what event definitions are written
 * with: string, number, boolean, null, literal, keyof, union, type, partial, intersection, array, readonly,
 * exact, tuple, record over strings, refinements (`Int`), and the kit's `DateFromISOString`. Any other codec
 * comes back as `UnsupportedCodec` naming where it was found.
 *
 * @example
 * const deposits = arbitraryFromCodec(Deposited.codec) // Either<UnsupportedCodec, fc.Arbitrary<Deposited>>
 */
export const arbitraryFromCodec = <A, O, I>(
  codec: t.Type<A, O, I>,
  options: ArbitraryOptions = {},
): E.Either<UnsupportedCodec, fc.Arbitrary<A>> =>
  derive(codec as unknown as AnyCodec, codec.name, primitives(options)) as E.Either<UnsupportedCodec, fc.Arbitrary<A>>

// Structural, like the topic map's: `t.Type` is invariant in its type, so a definition of one event is not an
// `EventDefinition<string, { type: string }>`.
interface AnyDefinition {
  readonly topic: string
  readonly codec: t.Decoder<unknown, { readonly type: string }> & t.Encoder<never, unknown>
}

type EventsOf<Ds extends readonly AnyDefinition[]> = Ds[number] extends infer D
  ? D extends { readonly codec: t.Decoder<unknown, infer A extends { readonly type: string }> }
    ? A
    : never
  : never

/** An arbitrary over several event definitions: any of their events. Options as for `arbitraryFromCodec`. */
export const arbitraryEvents = <Ds extends readonly AnyDefinition[]>(
  definitions: Ds,
  options: ArbitraryOptions = {},
): E.Either<UnsupportedCodec, fc.Arbitrary<EventsOf<Ds>>> =>
  definitions.length === 0
    ? E.left(unsupportedCodec('no event definitions', 'events'))
    : E.map((arbs: fc.Arbitrary<unknown>[]) => fc.oneof(...arbs) as fc.Arbitrary<EventsOf<Ds>>)(
        all(definitions.map((d) => d.codec as unknown as AnyCodec), 'events', primitives(options)),
      )

/** `arbitraryEvents` over the definitions given as arguments, with the default options. */
export const arbitraryEvent = <Ds extends readonly AnyDefinition[]>(
  ...definitions: Ds
): E.Either<UnsupportedCodec, fc.Arbitrary<EventsOf<Ds>>> => arbitraryEvents(definitions)
