/**
 * The body of the thread benchmark 5 captures operation scripts on (loaded by piscina from the
 * built `dist/`). A capture run calls the simulator through recording queue ends; run in the
 * timing thread, they would teach its JIT a second kind of queue at the simulator's call sites
 * (measured: the timed deep runs then took 4–8% more CPU time).
 */
import { type CapturedScript, captureOpScript } from './op_script.js';

export interface CaptureTask {
  /** Seeds of the single workload, default options otherwise. */
  seeds: number[];
}

export default function captureOpScripts(task: CaptureTask): CapturedScript[] {
  return task.seeds.map((seed) => captureOpScript({ seed, workload: 'single' }));
}
