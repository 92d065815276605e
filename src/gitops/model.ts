// The reports `idsync plan` and `idsync drift` produce: plain, JSON-able data. The renderers (text,
// Markdown, JSON) only format these objects, so what a pull-request comment says and what a script
// reads from `-o json` are the same facts. The JSON schemas in schema/ describe them; keep both in step.

/** How a resource differs between two configurations. */
export type ResourceChangeKind = "added" | "changed" | "removed";

/** One changed field of a resource; `path` is like spec.attributeFlows[target=mail].expression. */
export interface FieldChange {
  path: string;
  change: "added" | "removed" | "changed" | "reordered";
  before?: unknown;
  after?: unknown;
}

export interface ResourceChange {
  kind: string;
  name: string;
  namespace?: string;
  change: ResourceChangeKind;
  /** The file that declares it (absent for a removed resource). */
  file?: string;
  fields: FieldChange[];
}

export interface ConfigDiff {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Ordered by kind, then name. */
  resources: ResourceChange[];
}

/** before: what the target holds (or held); after: what it would hold. Values may be redacted. */
export interface AttributeChange {
  before?: unknown;
  after?: unknown;
}

/** A sample object: enough to find it, and what changes about it. */
export interface ObjectSample {
  anchor?: string;
  dn?: string;
  newDn?: string;
  /** Metaverse samples: the object's id and the connectors it has (had), as ma/anchor. */
  metaverseId?: number;
  connectors?: string[];
  attributes?: Record<string, AttributeChange>;
}

export interface AttributeCount {
  attribute: string;
  objects: number;
}

export interface ThresholdReport {
  maxDeletes?: number;
  maxPercent?: number;
  /** Pending deletes the next export would send (including deletes pending before the change). */
  deletes: number;
  /** Objects in the connector space that the percentage is taken of. */
  total: number;
  exceeded: boolean;
  reason?: string;
}

export interface ManagementAgentImpact {
  name: string;
  /** Target objects the next export would create (provisioned objects). */
  adds: number;
  /** Target objects whose attributes would change. */
  updates: number;
  renames: number;
  deletes: number;
  provisions: number;
  /** Connectors of outbound rules that would be deprovisioned (deleted, disconnected or disabled). */
  deprovisions: number;
  /** Connector-space objects that would join or project into the metaverse. */
  joins: number;
  projections: number;
  /** Connectors of inbound rules that would be disconnected (filtered, out of scope, gone). */
  disconnects: number;
  /** Pending exports that the change makes unnecessary. */
  cancelled: number;
  updatesByAttribute: AttributeCount[];
  threshold?: ThresholdReport;
  samples: {
    adds: ObjectSample[];
    updates: ObjectSample[];
    renames: ObjectSample[];
    deletes: ObjectSample[];
    deprovisions: ObjectSample[];
    disconnects: ObjectSample[];
  };
}

export interface MetaverseImpact {
  projections: number;
  deletions: number;
  updates: number;
  updatesByAttribute: AttributeCount[];
  samples: { deletions: ObjectSample[]; updates: ObjectSample[] };
}

export interface SyncErrorSample {
  ma: string;
  code: string;
  anchor?: string;
  message: string;
}

export interface DataImpact {
  /** The runs the simulation made, in order (a full sync of every MA the change reaches). */
  simulated: Array<{ ma: string; profile: string; status: string }>;
  /** MAs the change removes: their clean-up (disconnect, clear the connector space) was simulated first. */
  removedManagementAgents: string[];
  /** Only MAs with at least one change (or a tripped threshold), by name. */
  managementAgents: ManagementAgentImpact[];
  metaverse: MetaverseImpact;
  /** Object errors the sync under the new configuration would report. */
  errors: { count: number; samples: SyncErrorSample[] };
}

export interface PlanSummary {
  /** Anything at all would change: the exit code is 2. */
  changes: boolean;
  configChanges: number;
  /** Target objects added, updated, renamed or deleted, over all MAs. */
  objectChanges: number;
  deletes: number;
  metaverseDeletions: number;
  thresholdsTripped: string[];
}

export interface PlanReport {
  kind: "PlanReport";
  version: 1;
  generatedAt: string;
  /** The directory of CRs the plan was made for. */
  configuration: string;
  /** The engine database it was simulated against (never with a password). */
  database: string;
  redacted: boolean;
  config: ConfigDiff;
  data: DataImpact;
  warnings: string[];
  summary: PlanSummary;
}

// ---------------------------------------------------------------- drift

export interface ConfigComparison {
  /** What the files in git were compared with. */
  against: "engine" | "cluster";
  /** The database description, or the cluster's server URL and namespaces. */
  target: string;
  /** added: in git only; removed: applied (or in the cluster) only; changed: both, different. */
  diff: ConfigDiff;
}

export interface DriftObject {
  anchor?: string;
  dn?: string;
  newDn?: string;
  op: "add" | "update" | "delete";
  state: "pending" | "error" | "unconfirmed";
  /** Why this is drift, in words. */
  reason: string;
  /** before: what the target holds; after: what the rules say. */
  attributes?: Record<string, AttributeChange>;
  /** The last export error (state error). */
  error?: string;
}

export interface ManagementAgentDrift {
  name: string;
  /** Objects whose target values differ from what the rules say. */
  objects: number;
  /** Not exported yet (including out-of-band edits the last import saw). */
  pending: number;
  /** The last export attempt failed. */
  errors: number;
  /** Exported, but an import since then did not confirm it. */
  unconfirmed: number;
  byAttribute: AttributeCount[];
  samples: DriftObject[];
}

export interface DataDrift {
  database: string;
  /** MAs whose staged import changes were synced in a rolled-back simulation to see their drift. */
  simulatedDeltaSyncs: string[];
  managementAgents: ManagementAgentDrift[];
}

export interface DriftSummary {
  changes: boolean;
  configDrift: number;
  dataDrift: number;
}

export interface DriftReport {
  kind: "DriftReport";
  version: 1;
  generatedAt: string;
  configuration: string;
  redacted: boolean;
  config: ConfigComparison[];
  data?: DataDrift;
  warnings: string[];
  summary: DriftSummary;
}
