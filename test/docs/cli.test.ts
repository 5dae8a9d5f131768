import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sqliteStore } from 'aett/sqlite'
import { listParked } from 'aett/subscriptions'
import { main } from '../../docs/examples/cli.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/cli.md', () => {
  it('the application of its sessions writes the accounts, and its subscription parks what acc-2 wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aett-docs-cli-'))
    try {
      expect(await main(dir)).toEqual(E.right(undefined))
      const store = sqliteStore({ filename: join(dir, 'bank.db') })
      const parked = await listParked(store, 'statements')
      expect(E.map((p: readonly { readonly streamId: string; readonly checkpointToken: number }[]) => p.map((x) => [x.streamId, x.checkpointToken]))(parked)).toEqual(
        E.right([
          ['acc-2', 3],
          ['acc-2', 5],
        ]),
      )
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('shows the configuration module whole, and a recorded session of every verb', () => {
    const page = docsPage('cli.md')
    expect(page).toContain(exampleCode('aett.config.ts'))
    for (const verb of ['init', 'migrate', 'tenants', 'streams', 'show', 'tail', 'tail --follow', 'export', 'import', 'replay', 'check', 'subscriptions', 'subscriptions parked', 'subscriptions replay-parked', 'subscriptions reset']) {
      expect(page, verb).toContain(`$ aett ${verb} `.trimEnd())
    }
  })
})
