import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as O from 'fp-ts/lib/Option.js'
import { toArray } from '../../src/eventstore/index.js'
import { currentSchemaVersion, migrations, names, runMigrations, type Migration } from '../../src/sqlite/schema.js'
import { attempt, freshIds, right } from 'aett/testing/contract'
import { sqliteStore } from '../../src/sqlite/index.js'
import { databaseOf, open, openInitialized, orThrow, tempDir, tempFile } from './support.js'

const dir = tempDir()

/** Everything the schema consists of, to compare before and after. */
const schemaOf = (db: Database.Database) =>
  db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all()

const versionsOf = (db: Database.Database, prefix = 'aett_') =>
  db.prepare(`SELECT version, description, applied_at FROM "${prefix}schema_version" ORDER BY version`).all()

describe('sqlite: schema versions and migrations', () => {
  it('initialize() creates the schema at the current version and records every step', async () => {
    // given a new file
    const store = await open({ filename: tempFile(dir) })
    // when it is initialised
    const report = await store.migrate()
    // then every step was applied, in order, and recorded
    expect(report).toEqual(E.right({ from: 0, to: currentSchemaVersion, applied: migrations.map((m) => m.version) }))
    expect(versionsOf((await databaseOf(store)) as Database.Database).map((r) => (r as { version: number }).version)).toEqual(
      migrations.map((m) => m.version),
    )
    await store.close()
  })

  it('initialize() on an existing file at the current version changes nothing and keeps the data', async () => {
    // given a file at the current version with a commit in it, closed and reopened
    const filename = tempFile(dir)
    const first = await openInitialized({ filename })
    const ids = freshIds()
    expect(E.isRight(await first.commit(attempt({ ...ids, commitSequence: 1 })))).toBe(true)
    const db1 = (await databaseOf(first)) as Database.Database
    const schemaBefore = schemaOf(db1)
    const versionsBefore = versionsOf(db1)
    await first.close()
    const again = await open({ filename })
    const db2 = (await databaseOf(again)) as Database.Database
    const changesBefore = (db2.prepare('SELECT total_changes() AS n').get() as { n: number }).n
    // when it is initialised again
    const report = await again.migrate()
    // then nothing was applied or written, and the commit is still there
    expect(report).toEqual(E.right({ from: currentSchemaVersion, to: currentSchemaVersion, applied: [] }))
    expect((db2.prepare('SELECT total_changes() AS n').get() as { n: number }).n).toBe(changesBefore)
    expect(schemaOf(db2)).toEqual(schemaBefore)
    expect(versionsOf(db2)).toEqual(versionsBefore)
    const read = await toArray(again.get(ids.tenantId, ids.streamId))
    expect(E.isRight(read) && read.right.length).toBe(1)
    await again.close()
  })

  it('the runner applies pending steps in order, once, in one transaction each run', () => {
    // given a file at version 1
    const db = new Database(tempFile(dir))
    const n = names('m_')
    expect(runMigrations(db, n, migrations.slice(0, 1)).applied).toEqual([1])
    // and a later release with two more steps, the second depending on the first, listed out of order
    const v2: Migration = {
      version: 2,
      description: 'a stream metadata table',
      statements: (x) => [`CREATE TABLE ${x.named('stream_meta')} (tenant_id TEXT, stream_id TEXT)`],
    }
    const v3: Migration = {
      version: 3,
      description: 'a column on it',
      statements: (x) => [`ALTER TABLE ${x.named('stream_meta')} ADD COLUMN note TEXT`],
    }
    // when the runner brings the file forward
    const report = runMigrations(db, n, [v3, migrations[0] as Migration, v2])
    // then 2 ran before 3, both are recorded, and a second run is a no-op
    expect(report).toEqual({ from: 1, to: 3, applied: [2, 3] })
    expect(db.prepare('SELECT note FROM "m_stream_meta"').all()).toEqual([])
    expect(versionsOf(db, 'm_').map((r) => (r as { version: number }).version)).toEqual([1, 2, 3])
    expect(runMigrations(db, n, [migrations[0] as Migration, v2, v3])).toEqual({ from: 3, to: 3, applied: [] })
    db.close()
  })

  it('a failing step leaves the file as it was', () => {
    // given a file at version 1 and a step whose second statement fails
    const db = new Database(tempFile(dir))
    const n = names('f_')
    runMigrations(db, n, migrations.slice(0, 1))
    const bad: Migration = {
      version: 2,
      description: 'half a step',
      statements: (x) => [`CREATE TABLE ${x.named('half')} (a INTEGER)`, 'THIS IS NOT SQL'],
    }
    // when the runner tries it
    expect(() => runMigrations(db, n, [migrations[0] as Migration, bad])).toThrow()
    // then neither the table nor the version was kept
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'f_half'`).all()).toEqual([])
    expect(versionsOf(db, 'f_')).toHaveLength(1)
    expect(db.inTransaction).toBe(false)
    db.close()
  })

  it('steps numbered with a gap are refused before anything runs', () => {
    const db = new Database(':memory:')
    const skip: Migration = { version: 3, description: 'skips 2', statements: () => [] }
    expect(() => runMigrations(db, names('g_'), [migrations[0] as Migration, skip])).toThrow(/without gaps/)
    expect(db.prepare(`SELECT name FROM sqlite_master`).all()).toEqual([])
    db.close()
  })

  it('a file written by a newer release is refused with a StorageError', async () => {
    // given a file whose schema is at a version this release does not know
    const store = await openInitialized({ filename: tempFile(dir) })
    ;((await databaseOf(store)) as Database.Database)
      .prepare('INSERT INTO "aett_schema_version" (version, description, applied_at) VALUES (?, ?, ?)')
      .run(currentSchemaVersion + 1, 'from the future', Date.now())
    // when it is initialised
    const result = await store.initialize()
    // then the answer is a StorageError that says so
    expect(E.isLeft(result) && result.left._tag === 'StorageError' && result.left.message).toMatch(/newer than this release/)
    await store.close()
  })

  it('a file written by 0.1 (schema version 1) migrates to the current version: its data is kept, and subscriptions work on it', async () => {
    // given a file exactly as aett 0.1 wrote it (its DDL frozen here, as released) with a commit, a snapshot and a
    // raised token floor in it
    const filename = tempFile(dir)
    const db = new Database(filename)
    db.pragma('journal_mode = WAL')
    db.exec(`
      CREATE TABLE "aett_schema_version" (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);
      CREATE TABLE "aett_commits" (
        checkpoint INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, stream_id TEXT NOT NULL, stream_revision INTEGER NOT NULL,
        items INTEGER NOT NULL, commit_id TEXT NOT NULL, commit_sequence INTEGER NOT NULL, commit_stamp INTEGER NOT NULL,
        payload TEXT NOT NULL);
      CREATE UNIQUE INDEX "aett_commits_sequence" ON "aett_commits" (tenant_id, stream_id, commit_sequence);
      CREATE UNIQUE INDEX "aett_commits_commit_id" ON "aett_commits" (tenant_id, stream_id, commit_id);
      CREATE UNIQUE INDEX "aett_commits_revision" ON "aett_commits" (tenant_id, stream_id, stream_revision);
      CREATE TABLE "aett_checkpoint_floor" (id INTEGER PRIMARY KEY CHECK (id = 0), checkpoint INTEGER NOT NULL);
      INSERT INTO "aett_checkpoint_floor" (id, checkpoint) VALUES (0, 7);
      CREATE TABLE "aett_snapshots" (
        tenant_id TEXT NOT NULL, stream_id TEXT NOT NULL, stream_revision INTEGER NOT NULL, commit_sequence INTEGER NOT NULL,
        payload TEXT NOT NULL, headers TEXT NOT NULL, PRIMARY KEY (tenant_id, stream_id, stream_revision)) WITHOUT ROWID;
      INSERT INTO "aett_schema_version" VALUES (1, 'commits and snapshots', 1767225600000);
      INSERT INTO "aett_commits" VALUES (8, 't', 's', 2, 2, 'c1', 1, 1767225600000,
        '{"headers":{"h":1},"events":[{"body":{"type":"A"},"headers":{}},{"body":{"type":"B"},"headers":{}}]}');
      INSERT INTO "aett_snapshots" VALUES ('t', 's', 2, 1, '{"balance":3}', '{}');
    `)
    db.close()
    // and a store of this release on it, before it is migrated: commits and reads work, subscriptions cannot yet
    const store = sqliteStore({ filename })
    const before = await toArray(store.get('t', 's'))
    expect(E.isRight(before) && before.right.map((c) => c.checkpointToken)).toEqual([8])
    const early = await store.subscriptions.acquire('projection', 'h', 1_000)
    expect(E.isLeft(early) && early.left._tag).toBe('StorageError')
    // when it is initialised
    expect(await store.migrate()).toEqual(E.right({ from: 1, to: currentSchemaVersion, applied: [2, 3] }))
    // then the 0.1 data reads back the same, the floor still holds, and subscriptions work
    const read = orThrow(await toArray(store.get('t', 's')))
    expect(read).toMatchObject([{ checkpointToken: 8, streamRevision: 2, commitId: 'c1', headers: { h: 1 }, events: [{ body: { type: 'A' } }, { body: { type: 'B' } }] }])
    expect(O.toUndefined(orThrow(await store.getSnapshot('t', 's')))?.payload).toEqual({ balance: 3 })
    const next = right(await store.commit(attempt({ tenantId: 't', streamId: 's', commitSequence: 2, firstRevision: 3 })))
    expect(next.checkpointToken).toBe(9)
    const lease = O.toUndefined(orThrow(await store.subscriptions.acquire('projection', 'h', 1_000)))
    expect(lease).toMatchObject({ name: 'projection', holder: 'h', epoch: 1 })
    right(await store.subscriptions.saveCheckpoint(lease as NonNullable<typeof lease>, { positions: { '0': 8 } }))
    expect(orThrow(await store.subscriptions.checkpoint('projection'))).toEqual(O.some({ positions: { '0': 8 } }))
    expect(versionsOf((await databaseOf(store)) as Database.Database).map((r) => (r as { version: number }).version)).toEqual([1, 2, 3])
    // and a second run is a no-op
    expect(await store.migrate()).toEqual(E.right({ from: currentSchemaVersion, to: currentSchemaVersion, applied: [] }))
    await store.close()
  })
})
