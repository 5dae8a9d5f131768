type Typed = { readonly type: string }

/**
 * One handler per event type of a union. Written as a mapped type over `Ev['type']`, so a class that forgets
 * the handler of one of its events does not compile.
 */
export type Handlers<Ev extends Typed> = { readonly [K in Ev['type']]: (event: Extract<Ev, { readonly type: K }>) => void }

/** Routes an event to its handler by `type`; `false` when there is none (an event from outside the union). */
export const route = <Ev extends Typed>(handlers: Handlers<Ev>, event: Ev): boolean => {
  if (!Object.prototype.hasOwnProperty.call(handlers, event.type)) return false
  ;(handlers[event.type as Ev['type']] as (e: Ev) => void)(event)
  return true
}
