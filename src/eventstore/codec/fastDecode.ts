import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DateFromISOString, parseISODate } from './DateCodec.js'

type Check =
  | { readonly key: string; readonly kind: 'is'; readonly codec: t.Mixed }
  | { readonly key: string; readonly kind: 'date' }
  | { readonly key: string; readonly kind: 'decode'; readonly codec: t.Mixed }

/**
 * Decodes an object against io-ts props on the path that succeeds, without io-ts's bookkeeping: `t.type`
 * allocates a context array per field even when nothing is wrong, and loading a stream decodes every event.
 * A field whose codec encodes as identity is checked with its `is` guard (for such codecs a value decodes
 * exactly when it is one); dates are parsed; any other codec is decoded as io-ts would. `undefined` means
 * "not valid": the caller then runs io-ts itself to report every failing path.
 */
export const fastDecoder = (props: t.Props): ((u: unknown) => unknown) => {
  const checks: Check[] = Object.entries(props).map(([key, codec]): Check => {
    if (codec === DateFromISOString) return { key, kind: 'date' }
    if (codec.encode === t.identity) return { key, kind: 'is', codec }
    return { key, kind: 'decode', codec }
  })
  return (u) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return undefined
    const record = u as Record<string, unknown>
    let changed: Record<string, unknown> | undefined
    for (const check of checks) {
      const value = record[check.key]
      switch (check.kind) {
        case 'is':
          if (!check.codec.is(value)) return undefined
          break
        case 'date': {
          const d = parseISODate(value)
          if (d === undefined) return undefined
          if (d !== value) (changed ??= {})[check.key] = d
          break
        }
        case 'decode': {
          const r = check.codec.decode(value)
          if (E.isLeft(r)) return undefined
          if (r.right !== value) (changed ??= {})[check.key] = r.right
          break
        }
      }
    }
    // Like `t.type`: the input itself when nothing changed, else a copy that keeps unknown fields.
    return changed === undefined ? u : { ...record, ...changed }
  }
}
