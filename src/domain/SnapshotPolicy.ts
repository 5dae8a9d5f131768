// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** When a repository takes a snapshot on its own after a save: never, or every `n` events. */
export type SnapshotPolicy = { readonly _tag: 'Never' } | { readonly _tag: 'EveryNEvents'; readonly n: number }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const SnapshotPolicy = {
  never: { _tag: 'Never' } as SnapshotPolicy,
  /** A snapshot each time a save crosses a multiple of `n` (a non-positive or non-integer `n` means never). */
  everyNEvents: (n: number): SnapshotPolicy => (Number.isSafeInteger(n) && n > 0 ? { _tag: 'EveryNEvents', n } : { _tag: 'Never' }),
} as const

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Whether a save that moved a stream from revision `before` to `after` calls for a snapshot. Pure and cheap:
 * it needs no read of the newest snapshot, because crossing a multiple of `n` happens once per `n` events.
 */
export const shouldSnapshot = (policy: SnapshotPolicy, before: number, after: number): boolean => {
  switch (policy._tag) {
    case 'Never':
      return false
    case 'EveryNEvents':
      return Math.floor(after / policy.n) > Math.floor(before / policy.n)
  }
}
