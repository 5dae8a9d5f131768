import type { Persistence } from '../../src/eventstore/index.js'

/**
 * How the contract suite gets stores. Each store's spec file is a few lines: a harness, then
 * `storeContract(harness)`.
 */
export interface StoreHarness {
  /** Shown in test names, e.g. `sqlite (file)`. */
  readonly name: string
  /**
   * A fresh, initialised, empty store, isolated from every other run (its own schema, table prefix, file or
   * table names). It must be configured with a small read page size (`pageSize: 5`) so that paging is exercised.
   */
  readonly create: () => Promise<Persistence>
  /** Drops everything `create` made and closes the store. */
  readonly dispose: (store: Persistence) => Promise<void>
  /**
   * Optional: a store whose database fails on every call (an unreachable host, a closed pool). When given, the
   * suite checks that every operation answers with a `StorageError` that keeps the driver's cause. The suite
   * closes it with `close()`.
   */
  readonly failing?: () => Promise<Persistence>
}
