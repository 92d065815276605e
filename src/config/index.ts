// The configuration package's public surface: load, validate, explain errors, and the model.
export { loadConfigDirectory, type LoadResult } from "./load.ts";
export { validateResources } from "./validate.ts";
export { formatConfigError } from "./errors.ts";
export { inferMetaverseSchema, type MetaverseAttribute, type MetaverseSchema } from "./metaverse.ts";
export { parseDuration } from "./duration.ts";
export { crdFor, loadCrds, CRD_DIRECTORY, type CustomResourceDefinition } from "./schema.ts";
export * from "./model.ts";
