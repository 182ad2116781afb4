/** The registry service: the catalog, its HTTP API and the catalog sync. */
export { buildApp, type RegistryDeps } from './build-app.ts';
export { syncCatalog, type SyncReport } from './catalog/sync-catalog.ts';
