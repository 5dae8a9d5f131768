import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, it } from 'vitest'
import { expectSurvivesKills } from '../support/killedWriters.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable } from './support.js'

const available = await mysqlAvailable()
const workerScript = fileURLToPath(new URL('./groupCommitWorker.ts', import.meta.url))
const kills = process.env.AETT_SOAK === '1' ? 50 : 5
const streams = 8

describe.skipIf(!available)('mysql group commit: SIGKILL during batched writes', () => {
  const prefix = freshPrefix()
  const dir = mkdtempSync(join(tmpdir(), 'aett-mysql-kill-'))
  afterAll(async () => {
    const store = await initializedStore({ uri: mysqlUrl, tablePrefix: prefix })
    await store.drop()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(`loses no acknowledged append and stores no torn one (${kills} kills)`, { timeout: 60_000 + kills * 5_000 }, async () => {
    const ackFile = join(dir, 'acks')
    // given a child appending batches of 8 concurrent appends, killed at some point while it writes, again and
    // again, then the store read again: every acknowledged commit is there with its token, every stored one whole
    await expectSurvivesKills({
      script: workerScript,
      args: [prefix, ackFile, String(streams)],
      ackFile,
      kills,
      streams,
      reopen: () => initializedStore({ uri: mysqlUrl, tablePrefix: prefix }),
    })
  })
})
