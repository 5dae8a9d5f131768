import * as E from 'fp-ts/lib/Either.js'
import { closeSync, createReadStream, createWriteStream, existsSync, ftruncateSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Writable } from 'node:stream'
import type { Commit, CommitAttempt, EventMessage } from '../eventstore/Commit.js'
import type { Headers } from '../eventstore/Json.js'
import { headToken } from '../subscriptions/positions.js'
import { writeTo } from './write.js'
import { failure, storeFailure, usage } from './errors.js'
import type { OpenedStore } from './open.js'
import { progress } from './progress.js'

/**
 * The export format: one commit per line (NDJSON), in checkpoint order, every field of the commit as stored. The
 * stamp is an ISO-8601 string with milliseconds; `checkpointToken` is the source store's token (an import keeps
 * the order, and the target store hands out its own tokens).
 */
export interface CommitLine {
  readonly tenantId: string
  readonly streamId: string
  readonly commitId: string
  readonly commitSequence: number
  readonly streamRevision: number
  readonly commitStamp: string
  readonly checkpointToken: number
  readonly headers: Headers
  readonly events: readonly EventMessage[]
}

export const commitLine = (c: Commit): string =>
  JSON.stringify({
    tenantId: c.tenantId,
    streamId: c.streamId,
    commitId: c.commitId,
    commitSequence: c.commitSequence,
    streamRevision: c.streamRevision,
    commitStamp: c.commitStamp.toISOString(),
    checkpointToken: c.checkpointToken,
    headers: c.headers,
    events: c.events,
  } satisfies CommitLine)

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

/** A line of an export read back as the attempt that stores it again; a `string` says what is wrong with it. */
export const attemptOf = (line: string): CommitAttempt | string => {
  let u: unknown
  try {
    u = JSON.parse(line)
  } catch (e) {
    return `not JSON (${e instanceof Error ? e.message : String(e)})`
  }
  if (!isObject(u)) return 'not a commit object'
  for (const k of ['tenantId', 'streamId', 'commitId', 'commitStamp'] as const) if (typeof u[k] !== 'string') return `${k} is not a string`
  for (const k of ['commitSequence', 'streamRevision'] as const) if (typeof u[k] !== 'number') return `${k} is not a number`
  if (!isObject(u['headers'])) return 'headers is not an object'
  const events = u['events']
  if (!Array.isArray(events)) return 'events is not an array'
  for (const [i, m] of events.entries()) if (!isObject(m) || !isObject(m['body']) || !isObject(m['headers'])) return `events/${i} is not { body, headers }`
  const stamp = new Date(u['commitStamp'] as string)
  if (Number.isNaN(stamp.getTime())) return `commitStamp ${JSON.stringify(u['commitStamp'])} is not a date`
  return {
    tenantId: u['tenantId'] as string,
    streamId: u['streamId'] as string,
    commitId: u['commitId'] as string,
    commitSequence: u['commitSequence'] as number,
    streamRevision: u['streamRevision'] as number,
    commitStamp: stamp,
    headers: u['headers'] as Headers,
    events: events as EventMessage[],
  }
}

// -------------------------------------------------------------------------------------
// export
// -------------------------------------------------------------------------------------

export interface ExportOptions {
  /** Commits with a token above this one (0: all). */
  readonly from: number
  readonly tenantId: string | undefined
  readonly progress: boolean
  readonly signal: AbortSignal | undefined
}

export interface ExportSummary {
  readonly commits: number
  readonly events: number
  /** The token of the last commit written (the `--from` of a resumed export); `from` when none. */
  readonly lastToken: number
  readonly interrupted: boolean
}


/** Writes every commit after `from` (in checkpoint order) as NDJSON to `out`, holding one page of the store at a time. */
export const exportCommits = async (opened: OpenedStore, out: Writable, options: ExportOptions): Promise<ExportSummary> => {
  const { store } = opened
  const head = await headToken(store, options.tenantId)
  if (E.isLeft(head)) throw storeFailure(opened.kind, opened.label, head.left)
  const bar = await progress({ enabled: options.progress, unit: 'tokens', total: Math.max(0, head.right - options.from), title: 'export' })
  let commits = 0
  let events = 0
  let lastToken = options.from
  let interrupted = false
  // A file that cannot be written (a missing folder, a full disk) fails the export in one line, not with a stack.
  let broken: unknown
  const onError = (e: unknown) => (broken ??= e)
  out.on('error', onError)
  const check = () => {
    if (broken !== undefined) throw failure(`cannot write the export: ${broken instanceof Error ? broken.message : String(broken)}`)
  }
  try {
    for await (const r of store.getFrom(options.from, options.tenantId)) {
      if (E.isLeft(r)) throw storeFailure(opened.kind, opened.label, r.left)
      const c = r.right
      check()
      await writeTo(out, `${commitLine(c)}\n`).catch(onError)
      check()
      commits++
      events += c.events.length
      lastToken = c.checkpointToken
      bar.update(lastToken - options.from, events)
      if (options.signal?.aborted === true) {
        interrupted = true
        break
      }
    }
    check()
  } finally {
    out.off('error', onError)
    bar.stop(lastToken - options.from, events)
  }
  return { commits, events, lastToken, interrupted }
}

/**
 * For `export --resume`: the token of the last whole line of an earlier export, cutting off a line that was being
 * written when it stopped. Reads the file backwards from its end, never the whole file.
 */
export const resumePoint = (path: string): number => {
  const fd = openSync(path, 'r+')
  try {
    const size = fstatSync(fd).size
    const chunk = 64 * 1024
    let end = size
    let tail = Buffer.alloc(0)
    const newlines = (): number[] => {
      const at: number[] = []
      for (let i = tail.length - 1; i >= 0 && at.length < 2; i--) if (tail[i] === 0x0a) at.push(i)
      return at
    }
    // Read backwards until two newlines (the end of the last whole line and the one before it) or the start.
    while (end > 0) {
      const start = Math.max(0, end - chunk)
      const buf = Buffer.alloc(end - start)
      readSync(fd, buf, 0, buf.length, start)
      tail = Buffer.concat([buf, tail])
      end = start
      if (newlines().length >= 2) break
    }
    const base = end // file offset of tail[0]
    const marks = newlines()
    const lastNewline = marks[0]
    if (lastNewline === undefined) {
      ftruncateSync(fd, 0)
      return 0
    }
    if (base + lastNewline + 1 < size) ftruncateSync(fd, base + lastNewline + 1)
    const lineStart = marks[1] === undefined ? 0 : marks[1] + 1
    const line = tail.subarray(lineStart, lastNewline).toString('utf8')
    let token: unknown
    try {
      token = (JSON.parse(line) as { checkpointToken?: unknown }).checkpointToken
    } catch {
      token = undefined
    }
    if (typeof token !== 'number' || !Number.isSafeInteger(token)) throw failure(`${path}: its last line is not a commit of an aett export; cannot resume it`)
    return token
  } finally {
    closeSync(fd)
  }
}

/** Opens the export's output: stdout, or a file (refused when it exists, unless resumed or forced). */
export const exportTarget = (path: string | undefined, mode: { readonly resume: boolean; readonly force: boolean }): { out: Writable; from: number | undefined } => {
  if (path === undefined || path === '-') {
    if (mode.resume) throw usage('--resume needs --out <file>')
    return { out: process.stdout, from: undefined }
  }
  if (mode.resume) {
    if (!existsSync(path)) return { out: createWriteStream(path, { flags: 'w' }), from: undefined }
    const from = resumePoint(path)
    return { out: createWriteStream(path, { flags: 'a' }), from }
  }
  if (existsSync(path) && !mode.force) throw usage(`${path} exists: pass --resume to continue that export, or --force to overwrite it`)
  return { out: createWriteStream(path, { flags: 'w' }), from: undefined }
}

// -------------------------------------------------------------------------------------
// import
// -------------------------------------------------------------------------------------

export interface ImportOptions {
  readonly progress: boolean
  readonly signal?: AbortSignal | undefined
}

export interface ImportSummary {
  readonly lines: number
  /** Commits stored by this run. */
  readonly commits: number
  readonly events: number
  /** Commits the target held already (`DuplicateCommit`): an earlier, interrupted import stored them. */
  readonly present: number
  readonly interrupted: boolean
}

/**
 * Appends every commit of an export (a file, or `-` for stdin) to the store, in the file's order, keeping ids,
 * stamps, headers, events, sequences and revisions. A commit the store already holds (the same commit id in its
 * stream) is a `DuplicateCommit` and counts as done, so an interrupted import is resumed by running it again.
 */
export const importFile = async (opened: OpenedStore, path: string, options: ImportOptions): Promise<ImportSummary> => {
  const fromStdin = path === '-'
  if (!fromStdin && !existsSync(path)) throw failure(`${path}: no such file`)
  const input = fromStdin ? process.stdin : createReadStream(path)
  const total = fromStdin ? undefined : statSync(path).size
  const name = fromStdin ? 'stdin' : path
  const bar = await progress({ enabled: options.progress, unit: 'bytes', total, title: 'import' })
  const lines = createInterface({ input, crlfDelay: Infinity })
  let n = 0
  let commits = 0
  let events = 0
  let present = 0
  let interrupted = false
  const bytes = (): number => (fromStdin ? 0 : (input as ReturnType<typeof createReadStream>).bytesRead)
  try {
    for await (const line of lines) {
      n++
      if (line.trim().length === 0) continue
      const attempt = attemptOf(line)
      if (typeof attempt === 'string') throw failure(`${name}:${n}: ${attempt}`)
      const r = await opened.store.commit(attempt)
      if (E.isRight(r)) {
        commits++
        events += attempt.events.length
      } else {
        const e = r.left
        switch (e._tag) {
          case 'DuplicateCommit':
            present++
            break
          case 'ConcurrencyConflict':
            throw failure(
              `${name}:${n}: stream ${JSON.stringify(attempt.streamId)} of tenant ${JSON.stringify(attempt.tenantId)} already holds another commit at sequence ${attempt.commitSequence}: ` +
                `the store is not a copy of this export (${commits} commits imported before it)`,
            )
          case 'InvalidAttempt':
            throw failure(`${name}:${n}: ${opened.label} refused commit ${JSON.stringify(attempt.commitId)}: ${e.reason} (${commits} commits imported before it)`)
          case 'HookRejected':
            throw failure(`${name}:${n}: a hook refused commit ${JSON.stringify(attempt.commitId)}: ${e.reason}`)
          case 'StorageError':
            throw storeFailure(opened.kind, opened.label, e)
        }
      }
      bar.update(fromStdin ? commits + present : bytes(), events)
      if (options.signal?.aborted === true) {
        interrupted = true
        break
      }
    }
  } finally {
    bar.stop(fromStdin ? commits + present : bytes(), events)
    lines.close()
    if (!fromStdin) (input as ReturnType<typeof createReadStream>).destroy()
  }
  return { lines: n, commits, events, present, interrupted }
}
