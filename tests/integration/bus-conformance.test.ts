/** The bus conformance suite against every adapter available here. */
import { MemoryBus } from '../../platform/bus/index.ts';
import { busConformance } from '../conformance/bus-suite.ts';

busConformance({ name: 'in-process', open: () => Promise.resolve(new MemoryBus()) });
