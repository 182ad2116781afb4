#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx noetl …` works without a build step.
import { tsImport } from 'tsx/esm/api';

await tsImport('../cli/main.ts', import.meta.url);
