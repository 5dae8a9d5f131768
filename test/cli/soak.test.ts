import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../src/sqlite/index.js'
import { mainPath, rightOf, useBuiltBin } from './support.js'

/**
 * A scratch measurement, not part of `npm test` (AETT_SOAK=1 runs it): exporting 1,000,000 events keeps the
 * bin's memory flat. The peak RSS of a whole export is compared with that of an export of its last 10,000 events.
 */
const soak = process.env['AETT_SOAK'] === '1'

describe.skipIf(!soak)('aett export of 1,000,000 events', () => {
  useBuiltBin()
  // Made by the test itself: a skipped describe runs no hooks, so nothing may be created while collecting it.
  const dir = join(tmpdir(), `aett-cli-soak-${process.pid}`)
  const file = join(dir, 'soak.db')
  const eventsPerCommit = 10
  const commits = 100_000

  const exportRss = (args: readonly string[]): { rssKb: number; seconds: number; stderr: string } => {
    const out = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, mainPath(), 'export', '-s', `sqlite:${file}`, ...args], { encoding: 'utf8' })
    expect(out.status, out.stderr).toBe(0)
    const [rss, seconds] = (out.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number)
    return { rssKb: rss ?? 0, seconds: seconds ?? 0, stderr: out.stderr }
  }

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps memory flat', { timeout: 1_800_000 }, async () => {
    mkdirSync(dir, { recursive: true })
    const store = sqliteStore({ filename: file, synchronous: 'NORMAL' })
    rightOf(await store.initialize())
    const stamp = new Date('2026-01-01T00:00:00.000Z')
    for (let i = 0; i < commits; i++) {
      const stream = `s-${i % 1000}`
      const seq = Math.floor(i / 1000) + 1
      rightOf(
        await store.commit({
          tenantId: 'default',
          streamId: stream,
          streamRevision: seq * eventsPerCommit,
          commitId: `c-${i}`,
          commitSequence: seq,
          commitStamp: stamp,
          headers: { n: i },
          events: Array.from({ length: eventsPerCommit }, (_, k) => ({ body: { type: 'Tick', i, k, text: 'x'.repeat(40) }, headers: {} })),
        }),
      )
    }
    await store.close()
    const small = exportRss(['-o', join(dir, 'small.ndjson'), '--from', String(commits - 1_000)])
    const whole = exportRss(['-o', join(dir, 'whole.ndjson')])
    const size = statSync(join(dir, 'whole.ndjson')).size
    console.log(
      `export of 10,000 events: peak RSS ${(small.rssKb / 1024).toFixed(0)} MB; of 1,000,000 events (${(size / 2 ** 20).toFixed(0)} MB of NDJSON): ` +
        `peak RSS ${(whole.rssKb / 1024).toFixed(0)} MB in ${whole.seconds} s (${Math.round((commits * eventsPerCommit) / whole.seconds)} events/s)`,
    )
    expect(whole.stderr).toContain(`exported ${commits} commits (${commits * eventsPerCommit} events)`)
    // Flat: a hundred times the events costs at most a few pages more, not a hundred times the memory.
    expect(whole.rssKb).toBeLessThan(small.rssKb * 1.5)
  })
})
