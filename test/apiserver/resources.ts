// The resource types the test API server serves, and the registry that maps request paths
// (group, version, plural) to them. Built-in types live in builtins.ts, custom resources are
// registered from CustomResourceDefinitions (crds.ts), at start-up or when one is created.
import type { StatusCause } from "./errors.ts";
import type { PrinterColumn } from "./table.ts";

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Per-type behaviour the real server keeps in a type's registry strategy. */
export interface Strategy {
  /** Normalises an object being created (old undefined) or updated, before validation. */
  prepare?(obj: KObject, old: KObject | undefined): void;
  /** Type-specific validation; field paths are relative to the object root. */
  validate?(obj: KObject, old: KObject | undefined): StatusCause[];
  /** Called after a successful write, e.g. a CRD registers its resource. */
  afterWrite?(obj: KObject, event: "ADDED" | "MODIFIED" | "DELETED"): void;
}

/** Validation of custom resources against their CRD's openAPIV3Schema (schema.ts). */
export interface ObjectSchema {
  /** Prunes unknown fields and applies defaults in place; returns the validation failures. */
  admit(obj: KObject, old: KObject | undefined): StatusCause[];
}

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Objects of several served versions (or of core and events.k8s.io Events) share one table. */
  storageKey: string;
  /** Custom resources: generation on every spec change, no unconditional updates. */
  custom: boolean;
  statusSubresource: boolean;
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  /** Whether the server bumps metadata.generation (CRs and CRDs do, Secrets and Leases don't). */
  hasGeneration: boolean;
  /** Field selector paths beyond metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  schema?: ObjectSchema;
  strategy?: Strategy;
  /** Columns of the Table `kubectl get` asks for; types without them answer with plain objects. */
  printerColumns?: PrinterColumn[];
  /** Converts the stored form to the form of this group/version and back (events.k8s.io). */
  toView?(stored: KObject): KObject;
  fromView?(obj: KObject): KObject;
}

export const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Fills the defaults every type shares, so type tables only spell out what differs. */
export function resourceType(t: Partial<ResourceType> & Pick<ResourceType, "group" | "version" | "plural" | "kind">): ResourceType {
  return {
    singular: t.kind.toLowerCase(),
    listKind: `${t.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    storageKey: `${t.group}/${t.plural}`,
    custom: false,
    statusSubresource: false,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    hasGeneration: false,
    fieldSelectors: [],
    ...t,
  };
}

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();

  private static key(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  add(t: ResourceType): void {
    this.types.set(ResourceRegistry.key(t.group, t.version, t.plural), t);
  }

  /** Forgets every served version of one storage table (a deleted or replaced CRD). */
  removeStorage(storageKey: string): void {
    for (const [k, t] of this.types) if (t.storageKey === storageKey) this.types.delete(k);
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(ResourceRegistry.key(group, version, plural));
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  /** Groups with their versions, in registration order (the core group is served under /api). */
  groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const t of this.types.values()) {
      const versions = groups.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      groups.set(t.group, versions);
    }
    return groups;
  }

  resourcesIn(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.version === version);
  }
}
