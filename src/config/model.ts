// The typed configuration model: the three custom resources as the engine sees them.
// The CRD YAML files in crds/ are the schema's single source of truth; these types mirror them.
// Field names here are a contract with users' git repositories: add fields, never rename.

export const API_GROUP = "idsync.dev";
export const API_VERSION = "idsync.dev/v1alpha1";

export type Kind = "ManagementAgent" | "SyncRule" | "RetentionPolicy";

/** Where a resource was read from, so every error can point at the file and line. */
export interface SourceLocation {
  file: string;
  /** 1-based line of the document's first line in the file. */
  line: number;
  /** 0-based index of the document in a multi-document file. */
  document: number;
  /**
   * The configuration folder the file was loaded from (the directory given with -f): the files a
   * resource names may not leave it (config/paths.ts). Absent: the file's own directory.
   */
  root?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
}

export interface Resource<K extends Kind, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  /** Set by the file loader; absent for resources read from the Kubernetes API. */
  source?: SourceLocation;
}

// ---------------------------------------------------------------- ManagementAgent

export type AttributeType = "string" | "integer" | "boolean" | "reference" | "binary" | "datetime";

export interface AttributeSpec {
  name: string;
  /** default "string" */
  type?: AttributeType;
  multiValued?: boolean;
  /** For type reference: the object type (in the same MA) the value names by its anchor. */
  referenceTo?: string;
}

export interface ObjectTypeSpec {
  name: string;
  /** Attribute names whose values, joined, identify the object in its system. */
  anchor: string[];
  attributes: AttributeSpec[];
  /** LDAP: object classes used to search and to add. */
  objectClasses?: string[];
  /** LDAP: an extra search filter ANDed to the objectClass filter. */
  searchFilter?: string;
}

export interface CsvConnectorSettings {
  /**
   * Local mode: relative to the YAML file that declared the MA, inside the configuration folder
   * (or a folder allowed with --allow-paths). Operator: `<root>/<path inside it>` (config/paths.ts).
   */
  path: string;
  delimiter?: string;
  /** Separator inside a cell for multi-valued attributes; default ";". */
  multiValueSeparator?: string;
  /** The object type the rows are; default: the MA's first object type. */
  objectType?: string;
  /**
   * Default false. true: a cell starting with = + - @ tab or CR (a formula to a spreadsheet) is
   * written with a leading ' and read back without it (connectors/csv/schema.ts).
   */
  escapeFormulas?: boolean;
  /** The most rows the file may hold; default 1,000,000 (connectors/csv/limits.ts). */
  maxObjects?: number;
}

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface LdapConnectorSettings {
  url: string;
  bindDN?: string;
  passwordSecretRef?: SecretKeyRef;
  baseDN: string;
  startTLS?: boolean;
  /**
   * Default false: a bind with a password over plain ldap:// without StartTLS is refused before
   * anything is sent (the password would cross the network in clear text, to whoever `url` names).
   * true accepts that, for a directory on loopback or a test server.
   */
  allowInsecureBind?: boolean;
  tls?: { caFile?: string; insecureSkipVerify?: boolean };
  pageSize?: number;
  timeoutSeconds?: number;
  /**
   * The suffix of OpenLDAP's accesslog database (e.g. "cn=accesslog"). When set, a delta import
   * reads deletions from it; when not, deletions are only seen by the next full import.
   */
  accesslogBase?: string;
  /**
   * Default true: an add returns the new entry's anchor (entryUUID) with the Post-Read control.
   * false: the engine learns the anchor from the import that confirms the add (it carries the
   * object by its DN until then).
   */
  readAnchorAfterAdd?: boolean;
}

/**
 * An Active Directory domain (src/connectors/ad). Always over TLS: ldaps://, or ldap:// with
 * startTLS; a plain bind is refused, because the bind password and provisioned users' passwords
 * would cross the network in clear text.
 */
export interface ActiveDirectoryConnectorSettings {
  url: string;
  startTLS?: boolean;
  /** A DN or a user@realm UPN. */
  bindDN: string;
  passwordSecretRef: SecretKeyRef;
  /** The domain's naming context, e.g. DC=corp,DC=example. */
  baseDN: string;
  /** Containers under baseDN that scope import and may hold provisioned objects; absent: the whole domain. */
  containers?: string[];
  caFile?: string;
  insecureSkipVerify?: boolean;
  pageSize?: number;
  timeoutSeconds?: number;
  /** dirsync needs "Replicating Directory Changes"; usn reads uSNChanged; auto (default) tries DirSync first. */
  deltaMode?: "auto" | "dirsync" | "usn";
  /** Default true: a provisioned user must change its random initial password at first logon. */
  mustChangePassword?: boolean;
  /** Default true: read a new object's objectGUID right after the add. */
  readAnchorAfterAdd?: boolean;
}

export interface PostgresConnectorSettings {
  connectionSecretRef: SecretKeyRef;
  table: string;
}

export interface ConnectorSpec {
  type: "csv" | "ldap" | "activeDirectory" | "postgres";
  csv?: CsvConnectorSettings;
  ldap?: LdapConnectorSettings;
  activeDirectory?: ActiveDirectoryConnectorSettings;
  postgres?: PostgresConnectorSettings;
}

export interface DeletionThreshold {
  maxDeletes?: number;
  maxPercent?: number;
  /** maxPercent trips only when more than this many objects would go (a few leavers of a tiny MA are no mass deletion). */
  minDeletes?: number;
}

/**
 * The deletion guard of an MA that declares none (also the CRD's default): Entra Connect holds at
 * 500 deletes; a percentage catches a truncated source in a small MA, which 500 never would.
 * Declared as `deletionThreshold: {}`, an MA has no guard at all.
 */
export const DEFAULT_DELETION_THRESHOLD: Readonly<DeletionThreshold> = Object.freeze({ maxDeletes: 500, maxPercent: 10, minDeletes: 10 });

export type RunProfile = "full-import" | "delta-import" | "full-sync" | "delta-sync" | "export";

export interface ScheduleEntry {
  profile: RunProfile | "cycle";
  every?: string;
  cron?: string;
}

export interface ManagementAgentSpec {
  connector: ConnectorSpec;
  objectTypes: ObjectTypeSpec[];
  filter?: string;
  deletionThreshold?: DeletionThreshold;
  /**
   * A full import that reads no object while the connector space holds some is held as "source
   * empty" (a vanished or truncated export), unless the source may legitimately be empty.
   */
  allowEmpty?: boolean;
  stagingMode?: boolean;
  schedule?: ScheduleEntry[];
}

// ---------------------------------------------------------------- SyncRule

/** The int an outbound flow with unique: true may read: which try this is (1, 2, ...). */
export const ITERATION_VARIABLE = "iteration";

export interface AttributeFlow {
  target: string;
  expression: string;
  /** Outbound: flow only when the target object is created (provisioned). */
  initialOnly?: boolean;
  /**
   * Outbound: no other object of the MA's object type may hold the value (compared
   * case-insensitively). The expression may read `iteration` (1, 2, ...): the first value no other
   * object holds or is about to receive is taken, and a value the object already has is kept.
   */
  unique?: boolean;
}

/** A value flowed when the target object is deprovisioned (deprovision: disable). */
export interface DeprovisionFlow {
  target: string;
  expression: string;
  /** Has no effect on a deprovision flow (kept so both flow lists share their fields). */
  initialOnly?: boolean;
}

export interface JoinCriterion {
  /** The metaverse attribute to match. */
  metaverse: string;
  /** Inbound: evaluated over `source`; the value the metaverse attribute must equal. */
  expression: string;
}

export type DeprovisionAction = "delete" | "disconnect" | "disable";

export interface SyncRuleSpec {
  direction: "inbound" | "outbound";
  managementAgent: string;
  /** Inbound: the connector-space object type the rule reads. */
  sourceObjectType?: string;
  /** Outbound: the connector-space object type the rule writes. */
  targetObjectType?: string;
  metaverseObjectType: string;
  /** Lower wins. Inbound: ranks attribute flows; outbound: orders rules of one MA. */
  precedence: number;
  /** CEL over `source` (inbound) or `mv` (outbound); absent means every object. */
  scope?: string;
  /** Inbound: criteria tried in order; the first that finds exactly one candidate joins. */
  join?: JoinCriterion[];
  projection?: boolean;
  provision?: boolean;
  /** Outbound: CEL over `mv` giving the target object's distinguished name. */
  dn?: string;
  deprovision?: DeprovisionAction;
  /** Outbound, deprovision: disable — the values flowed to the target when the object leaves scope. */
  deprovisionFlows?: DeprovisionFlow[];
  /** Outbound, deprovision: disable — CEL over `mv`: the DN the target object is moved to then. */
  deprovisionDN?: string;
  attributeFlows?: AttributeFlow[];
}

// ---------------------------------------------------------------- RetentionPolicy

export interface RetentionPolicySpec {
  metaverseObjectType: string;
  deleteWhen?: {
    /** Delete the MV object when it is disconnected from any of these MAs. */
    disconnectedFrom?: string[];
    /** Delete the MV object when its last connector is gone (default true when deleteWhen is absent). */
    lastConnectorRemoved?: boolean;
  };
  /** Duration like 30d, 12h; deleted objects' data is kept this long, then purged. */
  gracePeriod?: string;
  runHistory?: { keep?: string };
  personalData?: { attributes?: string[] };
}

export type ManagementAgent = Resource<"ManagementAgent", ManagementAgentSpec>;
export type SyncRule = Resource<"SyncRule", SyncRuleSpec>;
export type RetentionPolicy = Resource<"RetentionPolicy", RetentionPolicySpec>;
export type AnyResource = ManagementAgent | SyncRule | RetentionPolicy;

/** A validated, complete configuration: what the engine runs on. */
export interface ConfigSet {
  managementAgents: ManagementAgent[];
  syncRules: SyncRule[];
  retentionPolicies: RetentionPolicy[];
}

/** One problem found in configuration; every field that is known is filled in. */
export interface ConfigError {
  file?: string;
  line?: number;
  column?: number;
  document?: number;
  kind?: string;
  name?: string;
  /** JSON-pointer-like field path, e.g. spec.attributeFlows[1].expression */
  path?: string;
  message: string;
}
