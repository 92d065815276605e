// Kubernetes `Status` failures, shaped and worded as the real API server words them, because
// clients (client-node, kubectl, the operator) branch on `code` and `reason`, and people read `message`.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

/** The identity of a resource as errors name it: `managementagents.idsync.dev`, or `secrets` in the core group. */
export interface ResourceName {
  group: string;
  plural: string;
}

export function qualifiedResource(r: ResourceName): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toStatus(): Record<string, unknown> {
    const status: Record<string, unknown> = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
    };
    if (this.reason) status.reason = this.reason;
    if (this.details) status.details = dropEmpty(this.details);
    status.code = this.code;
    return status;
  }
}

/** Go's `omitempty`: the real server never sends `"group": ""`. */
function dropEmpty(details: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  for (const [k, v] of Object.entries(details)) {
    if (v !== undefined && v !== "" && !(Array.isArray(v) && v.length === 0)) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function resourceDetails(r: ResourceName, name?: string): StatusDetails {
  return { name, group: r.group, kind: r.plural };
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(r)} "${name}" not found`, resourceDetails(r, name));
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(r)} "${name}" already exists`, resourceDetails(r, name));
}

/** 409 on a stale resourceVersion or a failed precondition ("Operation cannot be fulfilled ..."). */
export function conflict(r: ResourceName, name: string, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`,
    resourceDetails(r, name),
  );
}

export const STALE_OBJECT = "the object has been modified; please apply your changes to the latest version and try again";

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function forbidden(r: ResourceName, name: string | undefined, why: string): ApiError {
  const subject = name ? `${qualifiedResource(r)} "${name}"` : qualifiedResource(r);
  return new ApiError(403, "Forbidden", `${subject} is forbidden: ${why}`, resourceDetails(r, name));
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

/** The server's answer for a path it does not serve at all. */
export function routeNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {});
}

export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}

/** 422 Invalid: `Kind.group "name" is invalid: field: message` (several causes are bracketed). */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  return new ApiError(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${list}`, { name, group, kind, causes });
}

/** 410 Gone as a watch ERROR event or a list response carries it. */
export function expired(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function internalError(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ reason: "UnexpectedServerResponse", message }],
  });
}

/** How the API server renders a bad value inside "Invalid value: ..." */
export function renderValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
