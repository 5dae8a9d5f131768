import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { expectKilledLog, runAndKill, wholeLog } from '../support/killedWriters.js'
import { open, tempDir, tempFile } from './support.js'

const dir = tempDir()
const workerScript = fileURLToPath(new URL('./groupCommitWorker.ts', import.meta.url))
const kills = process.env.AETT_SOAK === '1' ? 50 : 5
const streams = 8

describe('sqlite group commit: SIGKILL during batched writes', () => {
  it(`loses no acknowledged append and stores no torn one (${kills} kills)`, { timeout: 60_000 + kills * 5_000 }, async () => {
    const filename = tempFile(dir)
    const ackFile = `${filename}.acks`
    let lastStored = 0
    for (let round = 0; round < kills; round++) {
      // given a child appending batches to the file, killed at some point while it writes
      await runAndKill(workerScript, [filename, ackFile, String(streams)], 30 + ((round * 37) % 200))
      // when the file is opened again
      const store = await open({ filename })
      const log = await wholeLog(store)
      await store.close()
      // then every acknowledged commit is there with its token, and every stored one is whole, in gap-free order
      expectKilledLog(log, ackFile)
      // and the child made progress in this round (the next one continues from here)
      expect(log.length).toBeGreaterThanOrEqual(lastStored)
      lastStored = log.length
    }
    expect(lastStored).toBeGreaterThan(kills * streams)
  })
})
