import { depositData, evolveAccount, type Account } from '../domain.js'

/**
 * What every raw baseline stores per commit: one row whose payload is the commit's headers and events as one
 * JSON document, the same shape and size aett's SQL stores write. A baseline doing less work than the
 * contract asks would flatter the driver, so each one checks the head and relies on unique indexes too.
 */
export const eventsJson = (streamId: string, firstVersion: number, count: number): string =>
  JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ body: { type: 'Deposited', ...depositData(streamId, firstVersion + i) }, headers: {} })),
  )

export const commitPayload = (streamId: string, firstVersion: number, count: number): string =>
  `{"headers":{},"events":${eventsJson(streamId, firstVersion, count)}}`

interface StoredPayload {
  readonly events: readonly { readonly body: { readonly amount: number } }[]
}

/** Folds a stored payload without validation: the least a reader can do. */
export const foldPayload = (state: Account, payload: string): Account => {
  let s = state
  for (const e of (JSON.parse(payload) as StoredPayload).events) s = evolveAccount(s, e.body)
  return s
}

export const eventsIn = (payload: string): number => (JSON.parse(payload) as StoredPayload).events.length
