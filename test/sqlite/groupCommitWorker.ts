/**
 * The child of the SQLite group-commit SIGKILL test (see test/support/killedWriters.ts). Usage:
 *   node --import tsx test/sqlite/groupCommitWorker.ts <file> <ack file> <streams>
 * One commit per stream is submitted in each turn, so that group commit writes them as one batch.
 */
import * as E from 'fp-ts/lib/Either.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { appendForever } from '../support/killedWriters.js'

const [filename, ackFile, streams] = process.argv.slice(2) as [string, string, string]
const store = sqliteStore({ filename, synchronous: 'FULL', groupCommit: { maxBatch: 64 }, busyRetries: 20 })
const init = await store.initialize()
if (E.isLeft(init)) {
  process.stderr.write(`${init.left.message}\n`)
  process.exit(1)
}
await appendForever(store, Number(streams), ackFile)
