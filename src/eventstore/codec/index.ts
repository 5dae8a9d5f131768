export * from './DateCodec.js'
export * from './defineEvent.js'
export * from './TopicMap.js'
export * from './report.js'
