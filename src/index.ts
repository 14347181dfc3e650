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
export { MemorySpill, type MemorySpillOptions } from './backends/memory_spill.js';
export { FileSpill, type FileSpillOptions } from './backends/file_spill.js';
export { MemfsSpill, type MemfsSpillOptions } from './backends/memfs_spill.js';
export { BatchFileSpill, type BatchFileSpillOptions, type BatchFileStats, type ReadMode, type WriteMode } from './backends/batch_file_spill.js';
export { nodeSpillFs, type SpillFs } from './backends/spill_fs.js';
