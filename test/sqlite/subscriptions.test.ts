import { afterAll } from 'vitest'
import { sqliteStore, type SqliteStoreOptions } from 'aett/sqlite'
import { subscriptionContract } from 'aett/testing/contract'
import { uniqueName } from '../support/services.js'
import { openInitialized, orThrow, tempDir, tempFile } from './support.js'

// The subscription contract on SQLite files (WAL), each store with its own file and table prefix; its
// multi-instance cases run their second and third instances on a second connection to the same file, as another
// process would.
const dir = tempDir()
const optionsOf = new WeakMap<object, SqliteStoreOptions>()
const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`subscription figures\n  ${figures.join('\n  ')}`)
})

subscriptionContract({
  name: 'sqlite (file)',
  create: async () => {
    const options = { filename: tempFile(dir), tablePrefix: `${uniqueName('s')}_`, synchronous: 'NORMAL' } as const
    const store = await openInitialized(options)
    optionsOf.set(store, options)
    return store
  },
  reopen: async (store) => {
    const other = sqliteStore(optionsOf.get(store) as SqliteStoreOptions)
    orThrow(await other.database())
    return other
  },
  dispose: async (store) => {
    await store.drop()
    await store.close()
  },
  onFigure: (figure, value, unit) => void figures.push(`${figure}: ${value} ${unit}`),
})
