import { cpus, totalmem } from 'node:os'

/** What the numbers were measured on; benchmarks are only comparable on the same line. */
export const machine = (): string => {
  const cores = cpus()
  const model = cores[0]?.model.trim() ?? 'unknown CPU'
  return `${cores.length} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`
}
