import { produce, type Draft } from 'immer'

/**
 * Writes a reducer as in-place edits of a draft; immer turns them into a new immutable state and keeps
 * unchanged branches shared. Handlers are keyed by event type and must cover the whole union.
 */
export const evolveWith =
  <S, Ev extends { readonly type: string }>(handlers: {
    readonly [K in Ev['type']]: (draft: Draft<S>, event: Extract<Ev, { type: K }>) => void | S
  }) =>
  (state: S, event: Ev): S =>
    produce(state, ((draft: Draft<S>) =>
      (handlers[event.type as Ev['type']] as (d: Draft<S>, e: Ev) => void | S)(draft, event)) as (d: Draft<S>) => void)
