/** The registry service: the catalog, its HTTP API and the catalog sync. */
export { buildApp, type RegistryDeps, type ExecutionControl } from './build-app.ts';
export { syncCatalog, type SyncReport } from './catalog/sync-catalog.ts';
