import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main, type DemoTranscript } from '../../examples/demo.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const scratch = mkdtempSync(join(tmpdir(), 'aett-demo-'))
const quiet = { print: () => {} }

describe('the demo (npm run demo)', () => {
  let first: DemoTranscript
  let second: DemoTranscript

  beforeAll(async () => {
    // given: a fresh directory; when: the demo runs twice in it
    const one = await main({ ...quiet, directory: join(scratch, 'twice') })
    const two = await main({ ...quiet, directory: join(scratch, 'twice') })
    if (E.isLeft(one) || E.isLeft(two)) throw new Error(`demo failed: ${JSON.stringify(E.isLeft(one) ? one.left : two)}`)
    first = one.right
    second = two.right
  })

  afterAll(() => rmSync(scratch, { recursive: true, force: true }))

  it('runs twice on the same directory and tells the same story (it recreates its file)', () => {
    // then: no fact depends on an earlier run
    expect(second.facts).toEqual(first.facts)
    expect(first.lines.some((l) => l.includes('7. totals:'))).toBe(true)
  })

  it('shows the decider refusing an overdraft, a repeated command written once, and the class face reading it', () => {
    expect(first.facts.rejection).toBe('InsufficientFunds')
    expect(first.facts.duplicate).toBe('AlreadyCommitted')
    // open, +100, -30, +5: written by the decider, read by the class
    expect(first.facts.classBalance).toBe(75)
  })

  it('delivers the saga commands stored with its commits, routes the moves back to the saga, and doing both again writes nothing', () => {
    // then: the dispatcher delivered the withdrawal and the deposit, the router fed the saga both moves
    expect(first.facts.transfer.delivered).toBe(2)
    expect(first.facts.transfer.routed).toBe(2)
    // and from the same start again (checkpoints reset), every delivery and every feed was already committed
    expect(first.facts.transfer.redelivered).toEqual(['AlreadyCommitted', 'AlreadyCommitted'])
    expect(first.facts.transfer.rerouted).toEqual(['AlreadyCommitted', 'AlreadyCommitted'])
    expect(first.facts.transfer.balances).toEqual([50, 75])
  })

  it('retries the non-conflicting collision and reports the conflicting one', () => {
    const { retried, conflict } = first.facts
    // then: the second writer needed two attempts, met one conflict, and landed after the first writer's commit
    expect(retried.attempts).toBe(2)
    expect(retried.conflicts).toBe(1)
    expect(retried.landedAt).toBe(retried.loadedAt + 2)
    expect(conflict).toBe('ConflictDetected')
  })

  it('reloads from the snapshot replaying only the events after it, to the same state', () => {
    const s = first.facts.snapshot
    expect(s.from).toBe(25)
    expect(s.replayedFromSnapshot).toBe(s.head - s.from)
    expect(s.replayedFull).toBe(s.head)
    expect(s.replayedFromSnapshot).toBeLessThan(s.replayedFull)
    expect(s.same).toBe(true)
  })

  it('reads the global log from a checkpoint in ascending token order', () => {
    const { from, tokens } = first.facts.global
    expect(tokens.length).toBeGreaterThan(0)
    expect(tokens[0]).toBeGreaterThan(from)
    expect(tokens.every((t, i) => i === 0 || t > (tokens[i - 1] ?? 0))).toBe(true)
    expect(first.facts.totals.commits).toBe(from + tokens.length)
  })

  it('keeps a balances read model by a projection that agrees with every account stream, and rebuilds it to the same', () => {
    const { projected, loaded, rebuilt } = first.facts.readModel
    expect(Object.keys(projected).sort()).toEqual(['acc-ada', 'acc-bo', 'acc-cy'])
    expect(projected).toEqual(loaded)
    expect(rebuilt).toEqual(projected)
    expect(projected['acc-bo']).toBe(first.facts.transfer.balances[1] as number - 20 + 15)
  })

  it('matches the transcript shown in docs/demo.md, timings aside', () => {
    // given: the transcript block of the page; the demo recreates its file, so only timings and the path differ
    const page = readFileSync(join(root, 'docs', 'demo.md'), 'utf8')
    const shown = /```text\n([\s\S]*?)```/.exec(page)?.[1] ?? ''
    const untimed = (text: string) =>
      text
        .replace(/\s*\([0-9.]+ ms\)/g, '')
        .replace(/[0-9.]+ ms in all/, 'ms in all')
        .replace(/SQLite \([^,]*,/, 'SQLite (file,')
        .trim()
    // then
    expect(untimed(shown)).toBe(untimed(first.lines.join('\n')))
  })

  it('shows the dispatcher and the router whole in docs/demo.md', () => {
    const page = readFileSync(join(root, 'docs', 'demo.md'), 'utf8')
    const source = readFileSync(join(root, 'examples', 'bank', 'delivery.ts'), 'utf8')
    expect(page).toContain(source.trim())
  })

  it('runs the dispatcher and the router on the SQLite store itself: their checkpoints are in the demo file', async () => {
    // given: the file the demo left behind
    const { sqliteStore } = await import('aett/sqlite')
    const store = sqliteStore({ filename: join(scratch, 'twice', 'demo.db') })
    // then: both subscriptions stored their checkpoint at the head of the saga's work, in that file
    for (const name of ['bank-dispatcher', 'bank-router']) {
      const checkpoint = await store.subscriptions.checkpoint(name)
      expect(E.isRight(checkpoint) && checkpoint.right._tag === 'Some' && checkpoint.right.value.positions['0'], name).toBe(first.facts.global.from + 5)
    }
    await store.close()
  })

  it('returns a failure as a value when it cannot prepare its directory', async () => {
    // given: a path where a directory cannot be made (a file is in the way)
    const blocked = join(scratch, 'blocked')
    writeFileSync(blocked, '')
    // when
    const result = await main({ ...quiet, directory: join(blocked, 'inside') })
    // then
    expect(E.isLeft(result) && result.left._tag === 'StepFailed' && result.left.error._tag).toBe('StorageError')
  })

  it('runs as a script (what npm run demo does), writes under ./.aett and exits 0', () => {
    // given: a working directory of its own; when: the entry point is executed directly
    const cwd = join(scratch, 'script')
    mkdirSync(cwd)
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')
    const run = spawnSync(process.execPath, [tsx, join(root, 'examples', 'demo.ts')], { cwd, encoding: 'utf8', timeout: 60_000 })
    // then
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toContain('7. totals:')
    expect(existsSync(join(cwd, '.aett', 'demo.db'))).toBe(true)
  })
})
