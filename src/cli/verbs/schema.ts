import * as E from 'fp-ts/lib/Either.js'
import { print, withStore, type StoreOptions } from '../common.js'
import { storeFailure } from '../errors.js'
import type { OpenedStore } from '../open.js'

/** Creates or migrates the store's schema; answers what SQLite reports it applied (other stores do not say). */
export const initializeStore = async (opened: OpenedStore): Promise<string> => {
  if (opened.migrate !== undefined) {
    const r = await opened.migrate()
    if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
    const { from, to, applied } = r.right
    return applied.length === 0 ? `schema at version ${to}, up to date` : `schema version ${from} -> ${to} (applied ${applied.join(', ')})`
  }
  const r = await opened.store.initialize()
  if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
  return 'schema created or brought up to date'
}

/** `aett init`: creates the store's schema (tables, indexes, routines); safe to run again. */
export const init = (options: StoreOptions) =>
  withStore(options, 'create', async (opened) => {
    await print(`${opened.label}: ${await initializeStore(opened)}`)
  })

/** `aett migrate`: brings an older schema forward (and creates a missing one); never touches stored data. */
export const migrate = (options: StoreOptions) =>
  withStore(options, 'write', async (opened) => {
    await print(`${opened.label}: ${await initializeStore(opened)}`)
  })
