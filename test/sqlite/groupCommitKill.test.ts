import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { open, tempDir, tempFile } from './support.js'

const dir = tempDir()
const root = fileURLToPath(new URL('../..', import.meta.url))
const workerScript = fileURLToPath(new URL('./groupCommitWorker.ts', import.meta.url))
const kills = process.env.AETT_SOAK === '1' ? 50 : 5
const streams = 8

/** Starts the child, lets it append for a while after it is ready, then kills it with SIGKILL. */
const runAndKill = (filename: string, ackFile: string, afterMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript, filename, ackFile, String(streams)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let killed = false
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      if (!killed && chunk.toString().includes('ready')) {
        killed = true
        setTimeout(() => child.kill('SIGKILL'), afterMs)
      }
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(stderr) : reject(new Error(`the child ended on its own: ${stderr}`))))
  })

describe('sqlite group commit: SIGKILL during batched writes', () => {
  it(`loses no acknowledged append and stores no torn one (${kills} kills)`, { timeout: 60_000 + kills * 5_000 }, async () => {
    const filename = tempFile(dir)
    const ackFile = `${filename}.acks`
    let lastStored = 0
    for (let round = 0; round < kills; round++) {
      // given a child appending batches to the file, killed at some point while it writes
      await runAndKill(filename, ackFile, 30 + ((round * 37) % 200))

      // when the file is opened again
      const store = await open({ filename })
      const log: Commit[] = []
      for await (const r of store.getFrom(0)) {
        if (E.isLeft(r)) throw new Error(r.left.message)
        log.push(r.right)
      }
      await store.close()

      // then every acknowledged commit is there, with the token it was acknowledged with
      const tokens = new Map(log.map((c) => [c.commitId, c.checkpointToken]))
      const acks = existsSync(ackFile) ? readFileSync(ackFile, 'utf8').split('\n').filter((l) => l.length > 0) : []
      for (const line of acks) {
        const [commitId, token] = line.split(' ')
        expect(tokens.get(commitId as string), `acknowledged ${commitId} lost`).toBe(Number(token))
      }
      // and every stored commit is whole, each stream gap-free, tokens gap-free and ascending
      const heads = new Map<string, { seq: number; rev: number }>()
      log.forEach((c, i) => {
        expect(c.checkpointToken).toBe(i + 1)
        const head = heads.get(c.streamId) ?? { seq: 0, rev: 0 }
        const k = head.seq + 1
        expect(c.commitSequence).toBe(k)
        expect(c.commitId).toBe(`${c.streamId}-${k}`)
        expect(c.events.map((e) => e.body)).toEqual(Array.from({ length: 1 + (k % 3) }, (_, j) => ({ type: 'Happened', k, i: j })))
        expect(c.streamRevision).toBe(head.rev + 1 + (k % 3))
        heads.set(c.streamId, { seq: k, rev: c.streamRevision })
      })
      // and the child made progress in this round (the next one continues from here)
      expect(log.length).toBeGreaterThanOrEqual(lastStored)
      lastStored = log.length
    }
    expect(lastStored).toBeGreaterThan(kills * streams)
  })
})
