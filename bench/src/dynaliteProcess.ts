import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'

/**
 * dynalite runs in a child process, so that the emulator's own work lands on the other core instead of in the
 * benchmark's event loop. It prints its port and serves until it is killed.
 */
export const startDynalite = async (): Promise<{ readonly endpoint: string; readonly child: ChildProcess }> => {
  const main = createRequire(import.meta.url).resolve('dynalite')
  const script = `const d = require(${JSON.stringify(main)})({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    d.listen(0, '127.0.0.1', () => console.log(d.address().port))`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${String(code)}`)))
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
  })
  return { endpoint: `http://127.0.0.1:${port}`, child }
}
