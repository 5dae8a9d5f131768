import Database from 'better-sqlite3'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { program } from '../../src/cli/program.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { parkSome, seed } from './fixtures/seed.js'
import { aett, configPath, lines, logOf, portable, rightOf, scratchDir, start, useBuiltBin } from './support.js'

/**
 * Every verb of the bin against a SQLite file, as a user runs it (a child process): output, exit codes, the error
 * cases, and that read verbs leave the file exactly as it was.
 */
useBuiltBin()
const dir = scratchDir()
const source = join(dir, 'source.db')
const S = `sqlite:${source}`
const C = ['-c', configPath]

/** Every row of every table of a SQLite file, read-only: what a read verb must leave unchanged. */
const dump = (file: string): unknown => {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((r) => JSON.stringify(r)).sort()]))
  } finally {
    db.close()
  }
}

let before: unknown
let tokens: number[] = []

beforeAll(async () => {
  const store = sqliteStore({ filename: source })
  rightOf(await store.initialize())
  await seed(store)
  await parkSome(store)
  tokens = (await logOf(store)).map((c) => c.checkpointToken)
  await store.close()
  before = dump(source)
})

/** One line on stderr, starting `aett: `. */
const oneLine = (stderr: string): string => {
  expect(lines(stderr)).toHaveLength(1)
  expect(stderr.startsWith('aett: ')).toBe(true)
  return stderr.trim()
}

describe('aett on SQLite', () => {
  it('every verb has --help', async () => {
    const verbs = program().commands.flatMap((c) => [c, ...c.commands])
    expect(verbs.map((c) => c.name()).sort()).toEqual(
      ['check', 'export', 'import', 'init', 'migrate', 'parked', 'replay', 'replay-parked', 'reset', 'show', 'status', 'streams', 'subscriptions', 'tail', 'tenants'].sort(),
    )
    for (const c of verbs) {
      expect(c.description().length, c.name()).toBeGreaterThan(10)
      if (c.name() !== 'subscriptions') expect(c.helpInformation(), c.name()).toContain('--store <url>')
    }
    const top = program().helpInformation()
    for (const v of ['streams', 'tenants', 'show', 'tail', 'export', 'import', 'replay', 'check', 'subscriptions', 'init', 'migrate']) expect(top).toContain(`  ${v}`)
    const show = await aett(['show', '--help'])
    expect(show.code).toBe(0)
    expect(show.stdout).toContain('Usage: aett show [options] <stream>')
  })

  it('streams, tenants, show and tail print tables for people and NDJSON with --json', async () => {
    const [streams, streamsJson, tenants, show, showJson, tailLast, tailFrom] = await Promise.all([
      aett(['streams', '-s', S]),
      aett(['streams', '-s', S, '--json', '--tenant', 'other']),
      aett(['tenants', '--store', S]),
      aett(['show', 'acc-1', '-s', S]),
      aett(['show', 'weird ✓ "id" 🦀', '-s', S, '--json']),
      aett(['tail', '-s', S, '-n', '2']),
      aett(['tail', '-s', S, '--from', String(tokens[tokens.length - 3]), '--json']),
    ])
    expect(streams.code).toBe(0)
    expect(lines(streams.stdout)[0]).toMatch(/^TENANT\s+STREAM\s+REVISION\s+COMMITS\s+LAST COMMIT$/)
    expect(streams.stdout).toMatch(/default\s+acc-1\s+3\s+3\s+2026-01-01T00:02:00\.000Z/)
    expect(streams.stdout).toContain('10 streams in 2 tenants')
    expect(lines(streamsJson.stdout).map((l) => JSON.parse(l) as unknown)).toEqual([
      { tenantId: 'other', streamId: 'acc-2', headRevision: 2, headSequence: 2, lastCommitStamp: '2026-01-01T00:01:00.000Z' },
      { tenantId: 'other', streamId: 'late', headRevision: 1, headSequence: 1, lastCommitStamp: '2025-12-31T23:59:59.999Z' },
    ])
    expect(tenants.stdout).toBe('default\nother\n')
    expect(show.code).toBe(0)
    expect(lines(show.stdout)[0]).toMatch(/^SEQ\s+REV\s+TOKEN\s+STAMP\s+COMMIT ID\s+TYPE\s+BODY \/ HEADERS$/)
    expect(show.stdout).toMatch(/\n2\s+2\s+2\s+2026-01-01T00:01:00\.000Z\s+\S+\s+Deposited\s+\{"timestamp":"2026-01-01T00:00:00\.000Z","amount":10/)
    expect(show.stdout).toContain('stream acc-1 (tenant default): 3 commits, 3 events, revision 3')
    const weird = JSON.parse(showJson.stdout) as Record<string, unknown>
    expect(weird).toMatchObject({ commitId: 'c-weird\'"', commitStamp: '2026-02-01T00:00:00.123Z', headers: { 'user.name': 'zoë', nested: { a: [1, null, true] }, n: 1.5 } })
    expect(lines(tailLast.stdout)).toHaveLength(2)
    expect(lines(tailLast.stdout)[1]).toMatch(new RegExp(`^${tokens[tokens.length - 1]}  2026-01-01T00:01:00\\.000Z  default/acc-8  seq 2  rev 2  Deposited$`))
    expect(lines(tailFrom.stdout).map((l) => (JSON.parse(l) as { checkpointToken: number }).checkpointToken)).toEqual(tokens.slice(-2))
  })

  it('replay prints the state at a version or time, and --diff what changed', async () => {
    const [at2, diff, atTime] = await Promise.all([
      aett(['replay', 'acc-1', '-s', S, ...C, '--to', '2']),
      aett(['replay', 'acc-1', '-s', S, ...C, '--diff']),
      aett(['replay', 'acc-1', '-s', S, ...C, '--to', '2026-01-01T00:00:30Z', '--json']),
    ])
    expect(at2.stdout).toBe('stream acc-1 (tenant default) at version 2 of 3:\n{\n  "owner": "ann",\n  "balance": 10,\n  "movements": 1\n}\n')
    expect(diff.stdout).toBe('stream acc-1 (tenant default), version 2 -> 3:\n~ balance: 10 -> 7\n~ movements: 1 -> 2\n')
    expect(JSON.parse(atTime.stdout)).toEqual({ streamId: 'acc-1', tenantId: 'default', version: 1, headVersion: 3, state: { owner: 'ann', balance: 0, movements: 0 } })
    for (const r of [at2, diff, atTime]) expect(r.code).toBe(0)
  })

  it('check decodes every stored event; subscriptions shows status, lag and parked commits', async () => {
    const [check, status, parked] = await Promise.all([
      aett(['check', '-s', S, ...C]),
      aett(['subscriptions', 'audit', '-s', S]),
      aett(['subscriptions', 'parked', 'audit', '-s', S, '--json']),
    ])
    expect(check.code).toBe(0)
    expect(check.stdout).toMatch(/^TOPIC\s+READ AS\s+DECODED\s+FAILED/)
    expect(check.stdout).toMatch(/Deposited\s+Deposited\s+9\s+0\s+v1 9\/0/)
    expect(check.stdout).toContain(`checked 20 events in ${tokens.length} commits: every event decodes`)
    expect(check.stderr).toBe('')
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`audit\\s+${tokens[tokens.length - 1]}\\s+${tokens[tokens.length - 1]}\\s+0\\s+-\\s+2\\s+free \\(last held by `))
    const p = lines(parked.stdout).map((l) => JSON.parse(l) as { streamId: string; checkpointToken: number })
    expect(p.map((x) => x.streamId)).toEqual(['acc-2', 'acc-2'])
  })

  it('bad URLs, missing files, missing schemas, unknown streams and options: one line and a non-zero exit', async () => {
    const empty = join(dir, 'empty.db')
    new Database(empty).close()
    const missing = join(dir, 'missing.db')
    const [badUrl, noFile, noSchema, noStream, badOption, noStore, noConfig] = await Promise.all([
      aett(['streams', '-s', 'sqlite']),
      aett(['show', 'x', '-s', `sqlite:${missing}`]),
      aett(['tail', '-s', `sqlite:${empty}`]),
      aett(['show', 'nope', '-s', S]),
      aett(['streams', '-s', S, '--bogus']),
      aett(['tenants'], { cwd: dir }),
      aett(['replay', 'acc-1', '-s', S], { cwd: dir }),
    ])
    expect([badUrl.code, oneLine(badUrl.stderr)]).toEqual([2, expect.stringMatching(/^aett: bad store URL "sqlite": it has no scheme; use sqlite:<file>/)])
    expect([noFile.code, oneLine(noFile.stderr)]).toEqual([1, `aett: sqlite ${missing}: no such file`])
    expect(existsSync(missing)).toBe(false)
    expect([noSchema.code, oneLine(noSchema.stderr)]).toEqual([
      1,
      `aett: sqlite ${empty}: the aett schema is missing or older than this release (no such table: aett_commits); run \`aett migrate\` on this store first`,
    ])
    // A read verb never migrates: the file still has no table.
    expect(dump(empty)).toEqual({})
    expect([noStream.code, oneLine(noStream.stderr)]).toEqual([1, `aett: no stream "nope" in tenant "default" of sqlite ${source}`])
    expect([badOption.code, oneLine(badOption.stderr)]).toEqual([2, "aett: unknown option '--bogus' (see --help)"])
    expect([noStore.code, oneLine(noStore.stderr)]).toEqual([2, 'aett: no store given: pass --store <url> (or set AETT_STORE, or export `store` from aett.config)'])
    expect([noConfig.code, oneLine(noConfig.stderr)]).toEqual([2, expect.stringContaining('aett: replay needs a configuration module: none of aett.config.ts')])
  })

  it('the read verbs above wrote nothing: every table of the file is as it was', () => {
    expect(dump(source)).toEqual(before)
  })

  it('tail --follow prints commits as they arrive, polling (no subscription), until interrupted', async () => {
    const file = join(dir, 'follow.db')
    copyFileSync(source, file)
    const child = start(['tail', '-s', `sqlite:${file}`, '--follow', '--interval', '50', '-n', '1'])
    let out = ''
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => out.includes(text) && resolve()
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString()
          check()
        })
        check()
      })
    await seen('default/acc-8')
    const store = sqliteStore({ filename: file })
    rightOf(await store.commit({ tenantId: 't', streamId: 'live', streamRevision: 1, commitId: 'live-1', commitSequence: 1, commitStamp: new Date(0), headers: {}, events: [{ body: { type: 'Ping' }, headers: {} }] }))
    await store.close()
    await seen('t/live  seq 1  rev 1  Ping')
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    // No lease, checkpoint or parked commit was written: tail is no subscription.
    const after = dump(file) as Record<string, unknown>
    const was = before as Record<string, unknown>
    for (const table of ['aett_subscription_leases', 'aett_subscription_checkpoints', 'aett_subscription_parked']) expect(after[table], table).toEqual(was[table])
  })

  it('export writes NDJSON; import copies it into a new store exactly, skips what is present, and resumes', async () => {
    const out = join(dir, 'source.ndjson')
    const copy = join(dir, 'copy.db')
    const exported = await aett(['export', '-s', S, '-o', out])
    expect(exported.code).toBe(0)
    expect(exported.stderr).toBe(`exported ${tokens.length} commits (20 events) from sqlite ${source} to ${out}; last token ${tokens[tokens.length - 1]}\n`)
    const text = readFileSync(out, 'utf8')
    expect(lines(text)).toHaveLength(tokens.length)

    // An interrupted import: the first 5 commits are in; running the whole import again adds the rest.
    writeFileSync(join(dir, 'head.ndjson'), `${lines(text).slice(0, 5).join('\n')}\n`)
    const [first, exists, fromToken] = await Promise.all([
      aett(['import', join(dir, 'head.ndjson'), '-s', `sqlite:${copy}`, '--init']),
      aett(['export', '-s', S, '-o', out]),
      aett(['export', '-s', S, '--from', String(tokens[tokens.length - 2])]),
    ])
    expect([first.code, first.stderr]).toEqual([0, `imported 5 commits (5 events) into sqlite ${copy}\n`])
    expect([exists.code, oneLine(exists.stderr)]).toEqual([2, `aett: ${out} exists: pass --resume to continue that export, or --force to overwrite it`])
    expect(fromToken.stdout).toBe(`${lines(text).slice(-1)[0]}\n`)
    const again = await aett(['import', '-s', `sqlite:${copy}`], { input: text })
    expect([again.code, again.stderr]).toEqual([0, `imported ${tokens.length - 5} commits (15 events) into sqlite ${copy}; 5 commits already present, skipped\n`])

    const a = sqliteStore({ filename: source })
    const b = sqliteStore({ filename: copy })
    expect((await logOf(b)).map(portable)).toEqual((await logOf(a)).map(portable))
    await Promise.all([a.close(), b.close()])

    // An export cut off in the middle of a line resumes after its last whole line.
    const partial = join(dir, 'partial.ndjson')
    writeFileSync(partial, `${lines(text).slice(0, 4).join('\n')}\n${lines(text)[4]?.slice(0, 30)}`)
    const resumed = await aett(['export', '-s', S, '-o', partial, '--resume'])
    expect(resumed.code).toBe(0)
    expect(readFileSync(partial, 'utf8')).toBe(text)
  })

  it('reset, replay-parked, init and migrate write; bad lines and other stores are refused', async () => {
    const fresh = join(dir, 'fresh.db')
    const bad = join(dir, 'bad.ndjson')
    writeFileSync(bad, '{"tenantId":"t"}\n')
    const [init, badImport, conflict] = await Promise.all([
      aett(['init', '-s', `sqlite:${fresh}`]),
      aett(['import', bad, '-s', S]),
      // The copy of an export into a store that holds other commits in the same streams is refused, not merged.
      aett(['import', '-s', S], { input: `${JSON.stringify({ tenantId: 'default', streamId: 'acc-1', commitId: 'other', commitSequence: 1, streamRevision: 1, commitStamp: '2026-01-01T00:00:00.000Z', checkpointToken: 1, headers: {}, events: [{ body: { type: 'Opened', owner: 'x' }, headers: {} }] })}\n` }),
    ])
    expect([init.code, init.stdout]).toEqual([0, `sqlite ${fresh}: schema version 0 -> 3 (applied 1, 2, 3)\n`])
    expect([badImport.code, oneLine(badImport.stderr)]).toEqual([1, `aett: ${bad}:1: streamId is not a string`])
    expect([conflict.code, oneLine(conflict.stderr)]).toEqual([1, expect.stringMatching(/^aett: stdin:1: stream "acc-1" of tenant "default" already holds another commit at sequence 1/)])
    const [migrate, replayed, noHandler] = await Promise.all([
      aett(['migrate', '-s', `sqlite:${fresh}`]),
      aett(['subscriptions', 'replay-parked', 'audit', '-s', S, ...C]),
      aett(['subscriptions', 'replay-parked', 'audit', '-s', S], { cwd: dir }),
    ])
    expect(migrate.stdout).toBe(`sqlite ${fresh}: schema at version 3, up to date\n`)
    expect(replayed.code).toBe(0)
    expect(replayed.stdout).toMatch(/^subscription audit: 2 replayed and unparked \(\d+, \d+\)\n$/)
    const [reset, parked] = await Promise.all([
      aett(['subscriptions', 'reset', 'audit', '--to', 'beginning', '-s', S]),
      aett(['subscriptions', 'parked', 'audit', '-s', S]),
    ])
    expect(reset.stdout).toBe('subscription audit: checkpoint set to token 0\n')
    expect(parked.stdout).toBe('no commits parked for audit\n')
    // The command line has no handler of its own: replay-parked takes the subscription's from the configuration.
    expect([noHandler.code, oneLine(noHandler.stderr)]).toEqual([2, expect.stringContaining('aett: replay-parked needs a configuration module')])
  })

  it('memory: a store for tests, empty or seeded from an export; check fails on events that do not decode', async () => {
    const bad = join(dir, 'undecodable.ndjson')
    const good = JSON.parse(lines(readFileSync(join(dir, 'source.ndjson'), 'utf8'))[0] as string) as Record<string, unknown>
    writeFileSync(bad, `${JSON.stringify({ ...good, events: [{ body: { type: 'Deposited', id: 'acc-1', version: 1, timestamp: '2026-01-01T00:00:00.000Z', amount: 'ten' }, headers: {} }] })}\n`)
    const [empty, check] = await Promise.all([aett(['streams', '-s', 'memory:']), aett(['check', '-s', `memory:${bad}`, ...C])])
    expect([empty.code, empty.stdout]).toEqual([0, 'no streams\n'])
    expect(check.code).toBe(1)
    expect(check.stdout).toMatch(/Deposited\s+Deposited\s+0\s+1\s+v1 0\/1/)
    expect(check.stdout).toContain('default/acc-1 revision 1 (commit ')
    expect(check.stdout).toContain('Deposited v1: Deposited/amount')
    expect(oneLine(check.stderr)).toBe('aett: 1 stored event does not decode')
  })
})
