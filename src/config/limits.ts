// Bounds on configuration input, so that a hostile or runaway file gets a clear error naming the
// file and line instead of exhausting memory or the stack. Documented in README.md ("Limits");
// the lists' own bounds are the CRDs' maxItems, which the API server enforces too.

/** A YAML file under the configuration folder: at most 8 MiB. */
export const MAX_CONFIG_FILE_BYTES = 8 * 1024 * 1024;

/**
 * One resource (one YAML document), measured as JSON: at most 1 MiB. The Kubernetes API stores no
 * object over about 1.5 MiB, so a larger one could not be applied in a cluster either.
 */
export const MAX_RESOURCE_BYTES = 1024 * 1024;

/** Schema errors reported per resource; the rest are counted in one last error. */
export const MAX_ERRORS_PER_RESOURCE = 50;

/** "8 MiB", "1.5 MiB", "512 KiB": sizes as the messages print them. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
