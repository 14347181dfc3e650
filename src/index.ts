// spillsim: the spilling MergeQueue of Timely Dataflow, in TypeScript.
export { Bytes, BytesMut } from './bytes.js';
export { Buzzer } from './buzzer.js';
export { EntryDeque } from './entry_deque.js';
export { BackendContractError, PoisonedError, SpillsimError, type SpillsimErrorCode } from './errors.js';
export { MergeQueue, type MergeQueueOptions, type StallGuard } from './merge_queue.js';
export { PrefetchPolicy, ReferencePrefetchPolicy, checkFetchResult } from './prefetch_policy.js';
export { ReferenceThreshold } from './reference_threshold.js';
export {
  bytesEntry,
  pagedEntry,
  type BytesFetch,
  type BytesSpill,
  type FetchResult,
  type QueueEntry,
  type StorageStats,
  type InspectableSpill,
} from './spill.js';
export type { SpillPolicy, SpillPolicyFn } from './spill_policy.js';
export { Threshold, spillChecked } from './threshold.js';
export { HEAD_RESERVE_BYTES_DEFAULT, MiB, THRESHOLD_BYTES_DEFAULT, ThresholdKnobs, type ThresholdOptions } from './threshold_knobs.js';
export { MemorySpill, type MemorySpillOptions } from './backends/memory_spill.js';
export { FileSpill, type FileSpillOptions } from './backends/file_spill.js';
export { MemfsSpill, type MemfsSpillOptions } from './backends/memfs_spill.js';
export { BatchFileSpill, type BatchFileSpillOptions, type BatchFileStats, type ReadMode, type WriteMode } from './backends/batch_file_spill.js';
export { nodeSpillFs, type SpillFs } from './backends/spill_fs.js';
export { Hooks, type BytesRefill, type CommunicationEvent, type HooksOptions, type LogFn, type QueueSiteKind } from './hooks.js';
export { Config, WORKERS_MAX, type ClusterOptions, type Communication, type ConfigKind } from './config.js';
export { Allocator, type AllocatorTraffic } from './allocator/allocator.js';
export { SLAB_BYTES_DEFAULT, type BuildOptions } from './allocator/build_options.js';
export { FrameAssembler } from './allocator/frame_assembler.js';
export type { Message, SendOptions } from './allocator/message.js';
export { CHANNEL_MAX, CHANNEL_SHUTDOWN, HEADER_BYTES, encodeFrame, tryReadHeader, type MessageHeader } from './allocator/message_header.js';
export { NetworkLink, type LinkLatency, type LinkWrite, type SplitWriteFn } from './allocator/network_link.js';
export type { NetworkStepResult, NetworkStepStatus } from './allocator/network_step.js';
export type { QueueSite } from './allocator/queue_site.js';
export { RecvLoop } from './allocator/recv_loop.js';
export { runUntilQuiet, type RunUntilQuietOptions, type RunUntilQuietResult, type Steppable } from './allocator/run_until_quiet.js';
export { SendLoop } from './allocator/send_loop.js';
export { SimulatedNetwork } from './allocator/simulated_network.js';
