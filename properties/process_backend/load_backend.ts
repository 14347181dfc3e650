import { type BackendModule, loadBackendModule } from '../conformance/backend_module.js';
import { loadExecBackend } from './exec_backend.js';
import { commandLineOf, isExecSpecifier } from './exec_specifier.js';

export interface LoadBackendOptions {
  /** For a child process backend: how long one request may wait for its answer (ms). */
  callTimeoutMs?: number;
}

/**
 * Load a backend by specifier: an ES module path or URL, or `exec:<command line>` for a backend
 * in another language that speaks docs/backend-protocol.md. Every problem is one `E_BAD_INPUT` line.
 */
export async function loadBackend(specifier: string, options: LoadBackendOptions = {}): Promise<BackendModule> {
  if (isExecSpecifier(specifier)) return loadExecBackend(commandLineOf(specifier), options);
  return loadBackendModule(specifier);
}
