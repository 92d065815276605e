// The finalizer on ManagementAgents. Deleting an MA must not leave its connector space behind, nor
// leave metaverse objects joined to connectors that no longer exist: with the finalizer in place the
// API server only marks the MA (deletionTimestamp) and waits; the operator runs the engine's
// clean-up (disconnect its connectors per the rules, clear its connector space), then removes the
// finalizer and the MA disappears.
//
// Finalizer edits are merge patches carrying the resourceVersion they were computed from: a
// concurrent edit of the finalizer list (another controller's finalizer) is a 409 and is retried
// from the fresh object instead of overwriting the other's change.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { apiErrorCode, MERGE_PATCH, type CustomResourceType } from "./kube.ts";

export const FINALIZER = "idsync.dev/cleanup";

export interface FinalizableObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: unknown };
}

export function hasFinalizer(o: FinalizableObject): boolean {
  return (o.metadata.finalizers ?? []).includes(FINALIZER);
}

export function isDeleting(o: FinalizableObject): boolean {
  return !!o.metadata.deletionTimestamp;
}

/**
 * Sets the finalizer list computed by `edit` from the object; on 409 (the object moved on, e.g. a
 * status write) re-reads it and edits the fresh list, so neither our work nor another's is redone
 * or lost. Returns false when the object is already gone.
 */
async function editFinalizers(
  custom: CustomObjectsApi,
  type: CustomResourceType,
  o: FinalizableObject,
  edit: (current: FinalizableObject) => string[] | undefined,
  attempts = 5,
): Promise<boolean> {
  const at = { group: type.group, version: type.version, plural: type.plural, namespace: o.metadata.namespace ?? "default", name: o.metadata.name };
  let current = o;
  for (let attempt = 1; ; attempt++) {
    const finalizers = edit(current);
    if (!finalizers) return true;
    try {
      await custom.patchNamespacedCustomObject({ ...at, body: { metadata: { resourceVersion: current.metadata.resourceVersion, finalizers } } }, MERGE_PATCH);
      return true;
    } catch (e) {
      const code = apiErrorCode(e);
      if (code === 404) return false;
      if (code !== 409 || attempt >= attempts) throw e;
      try {
        current = (await custom.getNamespacedCustomObject(at)) as FinalizableObject;
      } catch (g) {
        if (apiErrorCode(g) === 404) return false;
        throw g;
      }
    }
  }
}

/** Adds the finalizer (first sight of an MA); nothing when it is there or the MA is being deleted. */
export async function addFinalizer(custom: CustomObjectsApi, type: CustomResourceType, o: FinalizableObject): Promise<boolean> {
  return editFinalizers(custom, type, o, (c) => (hasFinalizer(c) || isDeleting(c) ? undefined : [...(c.metadata.finalizers ?? []), FINALIZER]));
}

/** Removes the finalizer once the clean-up is done; the API server then deletes the object. */
export async function removeFinalizer(custom: CustomObjectsApi, type: CustomResourceType, o: FinalizableObject): Promise<boolean> {
  return editFinalizers(custom, type, o, (c) => (hasFinalizer(c) ? (c.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) : undefined));
}
