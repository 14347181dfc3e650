/**
 * The body of one campaign worker thread (loaded by piscina from the built `dist/`): runs a
 * batch of seeds through the simulator and returns their results as plain JSON values.
 */
import { runSimulation, type SimOptions } from './run.js';
import type { SimRunResult } from './trace.js';

/**
 * Simulator options shared by every seed of a campaign: the JSON ones only, since they cross
 * into worker threads (the injected factories are for tests in one thread).
 */
export type SimOptionsWithoutSeed = Omit<SimOptions, 'seed' | 'queueFactory' | 'policyFactory' | 'backendFactory'>;

export interface CampaignTask {
  seeds: number[];
  simOptions: SimOptionsWithoutSeed;
}

export default function runCampaignTask(task: CampaignTask): SimRunResult[] {
  return task.seeds.map((seed) => runSimulation({ ...task.simOptions, seed }));
}
