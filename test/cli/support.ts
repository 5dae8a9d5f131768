import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll } from 'vitest'
import type { Commit, Persistence } from '../../src/eventstore/index.js'

/**
 * The `aett` bin run as a user runs it: a child process running `dist/cli/main.js` under plain node, as the package
 * ships it. Each test file compiles src/ with the project's own tsc (`tsconfig.build.json`, `--noCheck`: emit only,
 * about 2 s) into a folder of its own under node_modules/.cache (so the bin finds its dependencies as installed),
 * instead of running the source through tsx: a tsx start costs three times as much, and these files start the bin
 * some sixty times. The repository's dist/ is never touched. Output and exit code are what a shell sees.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
export const fixtures = join(root, 'test/cli/fixtures')
export const configPath = join(fixtures, 'aett.config.ts')

let built: string | undefined

/** Compiles the bin for this test file (before its tests) and removes it after them. */
export const useBuiltBin = (): void => {
  beforeAll(() => {
    const cache = join(root, 'node_modules', '.cache')
    mkdirSync(cache, { recursive: true })
    const dir = mkdtempSync(join(cache, 'aett-cli-test-'))
    try {
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--noCheck', '--declaration', 'false', '--sourceMap', 'false', '--outDir', join(dir, 'dist')],
        { stdio: 'pipe' },
      )
    } catch (e) {
      // tsc still emits when a file elsewhere in src/ does not compile (someone's work in progress); the bin's
      // own files must be there.
      if (!existsSync(join(dir, 'dist/cli/main.js'))) throw e
    }
    // `aett --version` reads the package.json two folders above dist/cli/main.js.
    copyFileSync(join(root, 'package.json'), join(dir, 'package.json'))
    built = dir
  }, 120_000)
  afterAll(() => {
    if (built !== undefined) rmSync(built, { recursive: true, force: true })
  })
}

/** The bin's file: dist/cli/main.js of this test file's build. */
export const mainPath = (): string => {
  if (built === undefined) throw new Error('call useBuiltBin() in the test file')
  return join(built, 'dist/cli/main.js')
}

// At most this many bins run at once per test file: the machine has two cores, shared.
const slots = 3
let running = 0
const waiting: (() => void)[] = []
const acquire = async (): Promise<void> => {
  if (running < slots) {
    running++
    return
  }
  await new Promise<void>((resolve) => waiting.push(resolve))
}
const release = (): void => {
  const next = waiting.shift()
  if (next !== undefined) next()
  else running--
}

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  readonly input?: string
}

const childEnv = (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  if (extra['AETT_STORE'] === undefined) delete env['AETT_STORE']
  return env
}

/** Starts `aett <args>`; for a test that talks to it while it runs (`tail --follow`). */
export const start = (args: readonly string[], options: RunOptions = {}): ChildProcess =>
  spawn(process.execPath, [mainPath(), ...args], { cwd: options.cwd ?? root, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })

/** Runs `aett <args>` to its end. */
export const aett = async (args: readonly string[], options: RunOptions = {}): Promise<Run> => {
  await acquire()
  try {
    return await new Promise((resolve, reject) => {
      const child = start(args, options)
      let stdout = ''
      let stderr = ''
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
      child.stdin?.end(options.input ?? '')
    })
  } finally {
    release()
  }
}

/** A scratch directory for one test file, removed after it. */
export const scratchDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'aett-cli-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every commit of a store in checkpoint order. */
export const logOf = async (store: Persistence): Promise<Commit[]> => {
  const out: Commit[] = []
  for await (const r of store.getFrom(0)) {
    if (E.isLeft(r)) throw new Error(r.left.message)
    out.push(r.right)
  }
  return out
}

/** A commit as an import keeps it: everything but the token, which the target store hands out itself. */
export const portable = (c: Commit) => {
  const { checkpointToken: _, ...rest } = c
  return { ...rest, commitStamp: c.commitStamp.toISOString() }
}

/** Unwraps a Right, failing loudly. */
export const rightOf = <A>(e: E.Either<{ readonly _tag: string; readonly message?: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`${e.left._tag}: ${e.left.message ?? JSON.stringify(e.left)}`)
  return e.right
}

/** The lines of an output, without the trailing empty one. */
export const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0)
