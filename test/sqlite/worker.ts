/**
 * One writer process of the multi-process test. Usage:
 *   node --import tsx test/sqlite/worker.ts <file> <worker id> <streams> <commits> <workers>
 * Waits until all `workers` processes are ready (files `<file>.ready-<id>`), so that they really overlap, then
 * appends `commits` commits spread over `streams` shared streams, retrying conflicts with a fresh read of the
 * head. Prints one `ack <commit id> <token>` line per acknowledged commit, then `done <conflicts met>`.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../../src/eventstore/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'

const [filename, workerArg, streamsArg, commitsArg, workersArg] = process.argv.slice(2)
const worker = Number(workerArg)
const streams = Number(streamsArg)
const commits = Number(commitsArg)
const workers = Number(workersArg)
const tenantId = 'multi-process'

const fail = (what: string): never => {
  process.stderr.write(`worker ${worker}: ${what}\n`)
  process.exit(1)
}

const main = async () => {
  const store = sqliteStore({ filename: filename ?? fail('no file'), busyRetries: 20 })
  // Every worker initialises: concurrent initialisation of one file must be safe too.
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)

  writeFileSync(`${filename}.ready-${worker}`, '')
  const deadline = Date.now() + 30_000
  while (!Array.from({ length: workers }, (_, w) => existsSync(`${filename}.ready-${w}`)).every(Boolean)) {
    if (Date.now() > deadline) return fail('the other workers never became ready')
    await sleep(5)
  }

  let conflicts = 0
  /** The newest commit this worker knows per stream; refreshed from the store on every conflict. */
  const heads = new Map<string, Commit>()
  const refresh = async (streamId: string) => {
    const known = heads.get(streamId)
    for await (const r of store.get(tenantId, streamId, { minRevision: (known?.streamRevision ?? 0) + 1 })) {
      if (E.isLeft(r)) return fail(r.left.message)
      heads.set(streamId, r.right)
    }
  }

  for (let i = 0; i < commits; i++) {
    const streamId = `stream-${(i + worker) % streams}`
    const commitId = `w${worker}-c${i}`
    const events = 1 + (i % 3)
    await refresh(streamId)
    for (let tries = 0; ; tries++) {
      if (tries > 1000) fail(`gave up on ${commitId}`)
      const head = heads.get(streamId)
      const result = await store.commit({
        tenantId,
        streamId,
        commitId,
        commitSequence: (head?.commitSequence ?? 0) + 1,
        streamRevision: (head?.streamRevision ?? 0) + events,
        commitStamp: new Date(),
        headers: { worker },
        events: Array.from({ length: events }, (_, k) => ({ body: { type: 'Appended', worker, i, k }, headers: {} })),
      })
      if (E.isRight(result)) {
        heads.set(streamId, result.right)
        process.stdout.write(`ack ${commitId} ${result.right.checkpointToken}\n`)
        break
      }
      switch (result.left._tag) {
        case 'ConcurrencyConflict':
          conflicts += 1
          await refresh(streamId)
          continue
        case 'StorageError':
          // Busy beyond the retries: nothing was written; try the same commit again.
          process.stderr.write(`worker ${worker}: ${result.left.message}, retrying\n`)
          continue
        case 'DuplicateCommit':
        case 'InvalidAttempt':
          return fail(`${commitId}: ${JSON.stringify(result.left)}`)
      }
    }
  }
  await store.close()
  process.stdout.write(`done ${conflicts}\n`)
}

void main()
