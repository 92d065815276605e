// The connector contract. A connector talks to one kind of system; it knows object types, anchors,
// DNs and attribute values, and nothing of the metaverse or of rules. The engine stages what a
// connector imports into the MA's connector space and hands it the exports it computed.
import type { AttrValue, Attributes } from "../expr/index.ts";
import type { ManagementAgent, ObjectTypeSpec } from "../config/model.ts";
import type { PathPolicy } from "../config/paths.ts";

export type { AttrValue, Attributes };

/** One object as read from the connected system. Attribute names use the declared schema's spelling. */
export interface ImportedObject {
  objectType: string;
  /** The anchor value (anchor attributes' values joined with "+" when there are several). */
  anchor: string;
  /** Distinguished name, for hierarchical systems (LDAP). */
  dn?: string;
  attrs: Attributes;
}

/** A change read by a delta import. "upsert" carries the whole current object. */
export type ImportChange =
  | { kind: "upsert"; object: ImportedObject }
  | { kind: "delete"; objectType: string; anchor?: string; dn?: string };

/** A problem with one record that did not stop the import (e.g. a malformed CSV row). */
export interface ImportProblem {
  /** Where the record is: "line 17" for CSV, a DN for LDAP. */
  location: string;
  anchor?: string;
  code: string;
  message: string;
}

export interface ImportBatch<T> {
  items: T[];
  problems?: ImportProblem[];
}

export interface DeltaImport {
  /**
   * "snapshot": the changes are the complete current set (e.g. a CSV file re-read); anything the
   * connector space holds that is not in it is deleted. "changes": only what changed.
   */
  mode: "snapshot" | "changes";
  batches: AsyncIterable<ImportBatch<ImportChange>>;
  /** Called after every batch was consumed and staged; the value to store for the next delta. */
  watermark(): Promise<string | undefined>;
}

/** How an attribute's multi-valued change is expressed for export (LDAP needs add/delete of values). */
export interface ValueChange {
  /** The complete new value set (null = remove the attribute). Always set. */
  replace: AttrValue;
  /** The previously known value, when there was one: lets a connector send minimal add/delete. */
  previous?: AttrValue;
}

export type ExportOperation =
  | { op: "add"; id: string; objectType: string; anchor?: string; dn?: string; attrs: Attributes }
  | {
      op: "update";
      id: string;
      objectType: string;
      anchor?: string;
      dn?: string;
      /** When set, the object is renamed/moved to this DN first (modDN), then modified. */
      newDn?: string;
      changes: Record<string, ValueChange>;
    }
  | { op: "delete"; id: string; objectType: string; anchor?: string; dn?: string };

export type ExportResult =
  | {
      id: string;
      ok: true;
      anchor?: string;
      dn?: string;
      /**
       * The system's own answer proves the outcome, so no import needs to confirm it. Set for a
       * delete the system reported done, or reported as already gone (LDAP noSuchObject): a delta
       * import that cannot see deletions (LDAP without accesslog) would never confirm it otherwise.
       */
      confirmed?: true;
    }
  | { id: string; ok: false; code: string; message: string; /** false: retrying will not help */ retryable: boolean };

export interface ConnectorContext {
  /** The YAML file's directory, for relative paths. */
  baseDir: string;
  /** Resolves a Secret reference (Kubernetes Secret, environment, or --secrets-dir). */
  secret(name: string, key: string): Promise<string>;
  /**
   * Where the files a connector reads and writes may lie (the CLI's configuration folder, the
   * operator's CSV roots); the connector refuses anything else, symbolic links followed. Absent:
   * anywhere (a library caller that checked the paths itself).
   */
  paths?: PathPolicy;
  signal?: AbortSignal;
  /**
   * Library callers only (tests): the initial password a directory connector gives a new account,
   * instead of a random one nobody knows. The CLI and the operator never set it.
   */
  initialPassword?: () => string;
}

export interface Connector {
  /** How reference attributes are written to this system: the referenced object's anchor or DN. */
  readonly referenceBy: "anchor" | "dn";
  /**
   * How many operations the connector wants per export call. A file connector that rewrites the
   * whole file per call wants them all at once (Infinity); a directory wants modest batches.
   */
  readonly exportBatchSize?: number;
  /**
   * True when the next delta import after an export must re-read everything (a file the export
   * rewrote): the engine then forgets the watermark, so the confirming import sees every export.
   */
  readonly snapshotAfterExport?: boolean;
  /** Streams every object of every declared object type. */
  fullImport(): AsyncIterable<ImportBatch<ImportedObject>>;
  /** Changes since the watermark (undefined: first run). */
  deltaImport(watermark: string | undefined): Promise<DeltaImport>;
  /**
   * Applies a batch of exports. Never throws for a per-object failure: each gets an ExportResult.
   * Throws only when the system cannot be reached at all (the rest of the batch stays pending).
   */
  export(operations: ExportOperation[]): Promise<ExportResult[]>;
  close(): Promise<void>;
}

export type ConnectorFactory = (ma: ManagementAgent, ctx: ConnectorContext) => Connector;

/** Joins anchor attribute values the way every connector and the engine do. */
export function anchorOf(type: ObjectTypeSpec, attrs: Attributes): string | undefined {
  const parts: string[] = [];
  for (const name of type.anchor) {
    const v = attrs[name];
    if (v === null || v === undefined || v === "") return undefined;
    parts.push(Array.isArray(v) ? v.join(",") : String(v));
  }
  return parts.join("+");
}
