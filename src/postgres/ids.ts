/** Ids PostgreSQL text can hold exactly: the kit's shared rule (no U+0000, no lone surrogate). */
export { isStorableId as isStorableText, unstorableIdReason as unstorableReason } from '../eventstore/ids.js'
