import type { EmmettSide } from '../suites/standard.js'

/**
 * What the Emmett adapters offer, declared without a single Emmett type: the kit's typecheck and test run see
 * only this file, never the adapters (which need bench/node_modules).
 */
export interface EmmettStore extends EmmettSide {
  readonly close: () => Promise<void>
}

export interface EmmettModules {
  readonly sqlite: {
    readonly openEmmettSqlite: (fileName: string, synchronous: 'FULL' | 'NORMAL') => Promise<EmmettStore>
    readonly openEmmettSqliteDefault: (fileName: string) => Promise<Pick<EmmettSide, 'appendSingles'>>
  }
  readonly postgres: { readonly openEmmettPostgres: (connectionString: string) => Promise<EmmettStore> }
}
