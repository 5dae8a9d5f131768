import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { open, tempDir, tempFile } from './support.js'

const dir = tempDir()
const root = fileURLToPath(new URL('../..', import.meta.url))
const workerScript = fileURLToPath(new URL('./worker.ts', import.meta.url))

const workers = 4
const streams = 3
const commitsPerWorker = 50

interface WorkerRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const runWorker = (filename: string, id: number): Promise<WorkerRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript, filename, String(id), String(streams), String(commitsPerWorker), String(workers)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })

describe('sqlite: several processes appending to the same streams of one file', () => {
  it('keeps every acknowledged commit exactly once, gapless streams, and tokens in commit order', { timeout: 60_000 }, async () => {
    // given one file and several OS processes appending concurrently to the same few streams
    const filename = tempFile(dir)
    const runs = await Promise.all(Array.from({ length: workers }, (_, id) => runWorker(filename, id)))

    // then every worker finished and reported its acknowledged commits
    const acked = new Map<string, number>()
    let conflicts = 0
    for (const [id, run] of runs.entries()) {
      expect(run.code, `worker ${id} failed: ${run.stderr}`).toBe(0)
      const lines = run.stdout.trim().split('\n')
      const [done, met] = (lines[lines.length - 1] ?? '').split(' ')
      expect(done).toBe('done')
      conflicts += Number(met)
      for (const line of lines.slice(0, -1)) {
        const [tag, commitId, token] = line.split(' ')
        expect(tag).toBe('ack')
        expect(acked.has(commitId as string), `${commitId} acknowledged twice`).toBe(false)
        acked.set(commitId as string, Number(token))
      }
    }
    expect(acked.size).toBe(workers * commitsPerWorker)
    // and they really competed: some appends met another process's commit and were retried
    expect(conflicts).toBeGreaterThan(0)

    // when the whole log is read back
    const store = await open({ filename, pageSize: 50 })
    const log: Commit[] = []
    for await (const r of store.getFrom(0)) {
      if (E.isLeft(r)) throw new Error(r.left.message)
      log.push(r.right)
    }
    await store.close()

    // then every acknowledged commit is there exactly once, with the token it was acknowledged with, and
    // nothing else is
    expect(log.map((c) => c.commitId).sort()).toEqual([...acked.keys()].sort())
    for (const c of log) expect(c.checkpointToken).toBe(acked.get(c.commitId))

    // and tokens ascend, and within each stream sequences and revisions follow them without gaps
    const heads = new Map<string, { seq: number; rev: number }>()
    let lastToken = 0
    for (const c of log) {
      expect(c.checkpointToken).toBeGreaterThan(lastToken)
      lastToken = c.checkpointToken
      const head = heads.get(c.streamId) ?? { seq: 0, rev: 0 }
      expect(c.commitSequence, `${c.streamId} sequence after ${head.seq}`).toBe(head.seq + 1)
      expect(c.streamRevision - c.events.length, `${c.streamId} revision after ${head.rev}`).toBe(head.rev)
      heads.set(c.streamId, { seq: c.commitSequence, rev: c.streamRevision })
    }
    expect(heads.size).toBe(streams)
  })
})
