import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root, its package.json, and the TypeScript compiler it pins (so consumers need not install one). */
export const root = fileURLToPath(new URL('../../', import.meta.url))
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  readonly name: string
  readonly version: string
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>
  readonly files: readonly string[]
  readonly dependencies: Record<string, string>
  readonly peerDependencies: Record<string, string>
  readonly peerDependenciesMeta: Record<string, { readonly optional?: boolean }>
  readonly devDependencies: Record<string, string>
}
export const tsc = join(root, 'node_modules', '.bin', 'tsc')

/** `aett/x` for the exports key `./x`. */
export const specifier = (subpath: string): string => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`)
export const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json')

/**
 * Entry points that import an optional peer as soon as they load, by design; each names the peers it needs. Every
 * other entry point must load with none of the optional peers installed (drivers are imported lazily).
 */
export const loadsPeers: Record<string, readonly string[]> = {
  './testing/properties': ['fast-check'],
  './otel': ['@opentelemetry/api'],
  './testing/contract': ['vitest', 'fast-check'],
}

export interface Run {
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs a command and resolves with its output, or rejects with an error that shows the command, its exit code and
 * its output. The npm variables of an enclosing `npm test` are left out, so that a nested npm works on its own project.
 */
export const run = (command: string, args: readonly string[], cwd: string, timeoutMs = 180_000): Promise<Run> =>
  new Promise((resolve, reject) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !/^(npm_(package|lifecycle)_|VITEST)/.test(k) && !['npm_config_local_prefix', 'INIT_CWD', 'npm_command', 'TEST'].includes(k),
      ),
    )
    // SIGKILL on timeout: npm, once stalled on the registry, outlived a SIGTERM and held the test run open.
    execFile(command, [...args], { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as { code?: unknown }).code
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${cwd}) failed: ${code === 'ENOENT' ? `${command} is not installed or not on PATH` : `exit ${String(code)}`}\n` +
              `--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        )
      } else resolve({ stdout, stderr })
    })
  })

/** A fresh directory under the OS's temporary directory; removed by `dispose` unless AETT_KEEP_TMP is set. */
export const tempDir = (prefix: string): { readonly path: string; readonly dispose: () => void } => {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {
    path,
    dispose: () => {
      if (process.env['AETT_KEEP_TMP']) console.log(`kept ${path}`)
      else rmSync(path, { recursive: true, force: true })
    },
  }
}

export interface Packed {
  /** Absolute path of the tarball. */
  readonly tarball: string
  /** Paths inside the package, as `npm pack` lists them. */
  readonly files: readonly string[]
}

/** `npm pack` of the repository into `destination` (the built `dist/` as it is: `npm test` builds first). */
export const pack = async (destination: string): Promise<Packed> => {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], root)
  const [report] = JSON.parse(stdout) as { readonly filename: string; readonly files: readonly { readonly path: string }[] }[]
  if (report === undefined) throw new Error(`npm pack reported nothing: ${stdout}`)
  return { tarball: join(destination, report.filename), files: report.files.map((f) => f.path) }
}

/** The consumer program sources (test/package/consumer/*.ts), copied into a consumer project's `src/`. */
export const copyProgram = (project: string, files: readonly string[]): void => {
  mkdirSync(join(project, 'src'), { recursive: true })
  for (const f of files) copyFileSync(join(root, 'test', 'package', 'consumer', f), join(project, 'src', f))
}

/**
 * A consumer's tsconfig: strict, NodeNext, compiled to `out/`. Node's types come from this repository's
 * `@types/node` (a consumer of a Node library has them; installing them would only slow the test down).
 */
export const writeTsconfig = (project: string, options: { readonly skipLibCheck: boolean }): void => {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          verbatimModuleSyntax: true,
          skipLibCheck: options.skipLibCheck,
          rootDir: 'src',
          outDir: 'out',
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['src'],
      },
      null,
      2,
    ),
  )
}

/** Runs an ES module snippet with Node in `project` and parses the JSON it prints last. */
export const nodeJson = async <A>(project: string, script: string): Promise<A> => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], project)
  const last = stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(last) as A
}

/** A script that imports every given specifier and prints, for each, the number of names or the failure. */
export const importEach = (specifiers: readonly string[]): string => `
const out = {}
for (const s of ${JSON.stringify(specifiers)}) {
  try { out[s] = { names: Object.keys(await import(s)).length } }
  catch (e) { out[s] = { code: e.code ?? null, message: String(e.message).split('\\n')[0] } }
}
console.log(JSON.stringify(out))
`

/** Runs `main(...args)` of a compiled consumer module and prints `{ actual, expected }`. */
export const runMain = (module: string, args: readonly unknown[] = []): string => `
const m = await import(${JSON.stringify(module)})
const actual = await m.main(...${JSON.stringify(args)})
console.log(JSON.stringify({ actual, expected: m.expected }))
`

export const exists = (path: string): boolean => existsSync(path)
