// spillsim: the spilling MergeQueue of Timely Dataflow, in TypeScript.
export { Bytes, BytesMut } from './bytes.js';
export { Buzzer } from './buzzer.js';
export { EntryDeque } from './entry_deque.js';
export { BackendContractError, PoisonedError, SpillsimError, type SpillsimErrorCode } from './errors.js';
export { MergeQueue, type MergeQueueOptions, type StallGuard } from './merge_queue.js';
export { PrefetchPolicy, checkFetchResult } from './prefetch_policy.js';
export { ReferenceThreshold } from './reference_threshold.js';
export {
  bytesEntry,
  pagedEntry,
  type BytesFetch,
  type BytesSpill,
  type FetchResult,
  type QueueEntry,
  type SpillPolicy,
  type SpillPolicyFn,
  type StorageStats,
  type InspectableSpill,
} from './spill.js';
export { Threshold, spillChecked } from './threshold.js';
export { HEAD_RESERVE_BYTES_DEFAULT, MiB, THRESHOLD_BYTES_DEFAULT, type ThresholdOptions } from './threshold_knobs.js';
