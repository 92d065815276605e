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
import { MERGE_PATCH, type CustomResourceType } from "./kube.ts";

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

async function setFinalizers(custom: CustomObjectsApi, type: CustomResourceType, o: FinalizableObject, finalizers: string[]): Promise<void> {
  await custom.patchNamespacedCustomObject(
    {
      group: type.group,
      version: type.version,
      plural: type.plural,
      namespace: o.metadata.namespace ?? "default",
      name: o.metadata.name,
      body: { metadata: { resourceVersion: o.metadata.resourceVersion, finalizers } },
    },
    MERGE_PATCH,
  );
}

/** Adds the finalizer (first sight of an MA). Throws the API error (409 when the object moved on). */
export async function addFinalizer(custom: CustomObjectsApi, type: CustomResourceType, o: FinalizableObject): Promise<void> {
  if (hasFinalizer(o)) return;
  await setFinalizers(custom, type, o, [...(o.metadata.finalizers ?? []), FINALIZER]);
}

/** Removes the finalizer once the clean-up is done; the API server then deletes the object. */
export async function removeFinalizer(custom: CustomObjectsApi, type: CustomResourceType, o: FinalizableObject): Promise<void> {
  if (!hasFinalizer(o)) return;
  await setFinalizers(custom, type, o, (o.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
}
