import type * as t from 'io-ts'
import type { DecodeIssue } from '../errors.js'

const isMemberIndex = (parent: t.Decoder<unknown, unknown> | undefined): boolean => {
  const tag = (parent as { _tag?: string } | undefined)?._tag
  return tag === 'IntersectionType' || tag === 'UnionType' || tag === 'RefinementType' || tag === 'ExactType'
}

/**
 * Turns io-ts errors into issues whose path reads `Deposited/amount` (the codec's name, then field keys),
 * leaving out the member indices that intersections and unions add to the context.
 */
export const toIssues = (errors: t.Errors): DecodeIssue[] =>
  errors.map((e) => {
    const keys: string[] = []
    e.context.forEach((entry, i) => {
      if (i === 0 || entry.key === '') return
      if (isMemberIndex(e.context[i - 1]?.type)) return
      keys.push(entry.key)
    })
    const root = e.context[0]?.type.name ?? 'value'
    const last = e.context[e.context.length - 1]
    return { path: [root, ...keys].join('/'), expected: last?.type.name ?? 'unknown', actual: e.value }
  })
