import * as E from 'fp-ts/lib/Either.js'

/**
 * The version-table bookkeeping the SQL stores share. Each dialect keeps its own runner, because how it runs
 * steps differs in ways that matter: SQLite is synchronous and migrates inside one `BEGIN IMMEDIATE`,
 * PostgreSQL inside one transaction under an advisory lock, MySQL statement by statement (its DDL commits
 * implicitly) under a named lock. What they must agree on is decided here: which steps run, in what order, and
 * when to refuse.
 */

/** What every dialect's schema step has: its place in the history and a line for the version table. */
export interface VersionedStep {
  readonly version: number
  readonly description: string
}

/**
 * One forward step of a SQL schema: the statements to run, in order, given the store's table names. A new step
 * gets the next version; a released step never changes, so that a database created by any earlier release can be
 * brought forward by `initialize()`.
 */
export interface Migration<Names> extends VersionedStep {
  readonly statements: (names: Names) => readonly string[]
}

/** What a migration run did: the version it found, the version it left, and the steps it applied. */
export interface MigrationReport {
  readonly from: number
  readonly to: number
  readonly applied: readonly number[]
}

/** The steps a schema at version `from` still needs, oldest first, and where they leave it. */
export interface MigrationPlan<S extends VersionedStep> {
  readonly from: number
  readonly to: number
  readonly pending: readonly S[]
}

/**
 * Plans bringing a schema at version `current` to the newest of `steps`. Refuses steps that are not numbered
 * 1, 2, 3, ... (a gap or a repeat means a step was lost or edited), and a schema newer than the last step: it
 * was written by a later release, and running this one against it could damage it.
 */
export const planMigrations = <S extends VersionedStep>(steps: readonly S[], current: number): E.Either<RangeError, MigrationPlan<S>> => {
  const ordered = [...steps].sort((a, b) => a.version - b.version)
  const misplaced = ordered.findIndex((m, i) => !Number.isSafeInteger(m.version) || m.version !== i + 1)
  if (misplaced >= 0) {
    const found = ordered[misplaced]?.version
    return E.left(new RangeError(`migrations must be numbered 1, 2, 3, ... without gaps; found ${found} at position ${misplaced + 1}`))
  }
  const latest = ordered[ordered.length - 1]?.version ?? 0
  if (current > latest) {
    return E.left(new RangeError(`the schema is at version ${current}, newer than this release knows (${latest}); upgrade aett`))
  }
  return E.right({ from: current, to: Math.max(current, latest), pending: ordered.filter((m) => m.version > current) })
}

/** The report of a plan that ran to the end. */
export const reportOf = <S extends VersionedStep>(plan: MigrationPlan<S>): MigrationReport => ({
  from: plan.from,
  to: plan.to,
  applied: plan.pending.map((m) => m.version),
})
