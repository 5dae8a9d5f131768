import type { Writable } from 'node:stream'

/** Resolves when a full stream drains (or closes), rejects when it fails; leaves no listener behind. */
export const drained = (out: Writable): Promise<void> =>
  new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', ok)
      out.off('close', ok)
      out.off('error', failed)
    }
    const ok = () => (done(), resolve())
    const failed = (e: unknown) => (done(), reject(e))
    out.on('drain', ok)
    out.on('close', ok)
    out.on('error', failed)
  })

/** Writes to a stream, waiting while it is full so that memory stays flat however much is written. */
export const writeTo = async (out: Writable, text: string): Promise<void> => {
  if (!out.write(text)) await drained(out)
}
