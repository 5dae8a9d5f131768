import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'
import { expectSurvivesKills } from '../support/killedWriters.js'
import { open, tempDir, tempFile } from './support.js'

const dir = tempDir()
const workerScript = fileURLToPath(new URL('./groupCommitWorker.ts', import.meta.url))
const kills = process.env.AETT_SOAK === '1' ? 50 : 5
const streams = 8

describe('sqlite group commit: SIGKILL during batched writes', () => {
  it(`loses no acknowledged append and stores no torn one (${kills} kills)`, { timeout: 60_000 + kills * 5_000 }, async () => {
    const filename = tempFile(dir)
    const ackFile = `${filename}.acks`
    // given a child appending batches to the file, killed at some point while it writes, again and again, then
    // the file opened again: every acknowledged commit is there with its token, every stored one whole, in order
    await expectSurvivesKills({ script: workerScript, args: [filename, ackFile, String(streams)], ackFile, kills, streams, reopen: () => open({ filename }) })
  })
})
