/** How much work each scenario does; `full` is the numbers, `tiny` keeps the harness honest in tests. */
export interface Sizes {
  readonly name: 'tiny' | 'full'
  /** Single-event appends to one stream. */
  readonly appends: number
  /** Events in the one large append. */
  readonly batch: number
  readonly commands: number
  readonly commandStreams: number
  /** Events in the stream that is read and folded, in commits of `foldCommit`. */
  readonly foldEvents: number
  readonly foldCommit: number
  /** Events in the global log, in commits of `logCommit`. */
  readonly logEvents: number
  readonly logCommit: number
  /** Rows (aett: commits; Emmett: messages) per page of a global read. */
  readonly pageSize: number
}

export const sizes: Readonly<Record<Sizes['name'], Sizes>> = {
  full: {
    name: 'full',
    appends: 1000,
    batch: 1000,
    commands: 1000,
    commandStreams: 100,
    foldEvents: 10_000,
    foldCommit: 100,
    logEvents: 100_000,
    logCommit: 10,
    pageSize: 500,
  },
  tiny: {
    name: 'tiny',
    appends: 10,
    batch: 10,
    commands: 10,
    commandStreams: 5,
    foldEvents: 200,
    foldCommit: 20,
    logEvents: 200,
    logCommit: 10,
    pageSize: 7,
  },
}

/** `1,000` */
export const count = (n: number): string => n.toLocaleString('en-US')
