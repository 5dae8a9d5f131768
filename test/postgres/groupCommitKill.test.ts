import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, it } from 'vitest'
import { postgresStore } from '../../src/postgres/index.js'
import { expectSurvivesKills } from '../support/killedWriters.js'
import { pgUrl, uniqueName } from '../support/services.js'
import { pgAvailable } from './support.js'

const available = await pgAvailable()
const workerScript = fileURLToPath(new URL('./groupCommitWorker.ts', import.meta.url))
const kills = process.env.AETT_SOAK === '1' ? 50 : 5
const streams = 8

const reopen = async (schema: string) => {
  const store = postgresStore({ connectionString: pgUrl, schema, poolSize: 2 })
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
  return store
}

describe.skipIf(!available)('postgres group commit: SIGKILL during batched writes', () => {
  const schema = uniqueName('aett_pg_kill')
  const dir = mkdtempSync(join(tmpdir(), 'aett-pg-kill-'))
  afterAll(async () => {
    const store = await reopen(schema)
    await store.drop()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(`loses no acknowledged append and stores no torn one (${kills} kills)`, { timeout: 60_000 + kills * 5_000 }, async () => {
    const ackFile = join(dir, 'acks')
    // given a child appending batches of 8 concurrent appends, killed at some point while it writes, again and
    // again, then the store read again: every acknowledged commit is there with its token, every stored one whole
    await expectSurvivesKills({ script: workerScript, args: [schema, ackFile, String(streams)], ackFile, kills, streams, reopen: () => reopen(schema), tokens: 'ascending' })
  })
})
