/**
 * The attempts of the group-commit property tests (issue 18): a few streams and commit ids, so that concurrent
 * attempts continue, collide, repeat an id, leave a gap or are invalid (no events) often enough.
 */
import fc from 'fast-check'
import type { CommitAttempt } from '../../src/eventstore/index.js'

export interface Spec {
  readonly stream: string
  readonly seq: number
  readonly revBase: number
  readonly events: number
  readonly id: string
}

const stamp = new Date('2026-01-01T00:00:00Z')

/** The attempt a spec describes; `body` is merged into every event's body. */
export const attempt = (tenantId: string, s: Spec, body: Record<string, unknown> = {}): CommitAttempt => ({
  tenantId,
  streamId: s.stream,
  commitSequence: s.seq,
  // revBase -1: the revision of a stream of single-event commits (so most attempts continue or collide)
  streamRevision: (s.revBase < 0 ? s.seq - 1 : s.revBase) + s.events,
  commitId: s.id,
  commitStamp: stamp,
  headers: {},
  events: Array.from({ length: s.events }, (_, i) => ({ headers: {}, body: { type: 'Happened', i, ...body } })),
})

/** Same and different streams (of `streams`), duplicate ids, gaps, conflicts, and invalid attempts (no events). */
export const spec = (streams: readonly string[]): fc.Arbitrary<Spec> =>
  fc.record({
    stream: fc.constantFrom(...streams),
    seq: fc.integer({ min: 1, max: 4 }),
    revBase: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }),
    events: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2) }),
    id: fc.constantFrom('x', 'y', 'z', 'u', 'v', 'w'),
  })
