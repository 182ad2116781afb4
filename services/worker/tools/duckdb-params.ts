/**
 * Template values bound as DuckDB parameters, each typed from its JSON value:
 * a whole number is BIGINT, another number DOUBLE, text VARCHAR, true/false
 * BOOLEAN, null NULL, a list of one scalar type a LIST of it; anything else
 * (an object, a mixed list) is its JSON text as VARCHAR (cast it with ::JSON).
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  LIST,
  listValue,
  SQLNULL,
  VARCHAR,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface DuckDbParams {
  values: DuckDBValue[];
  types: DuckDBType[];
}

export function duckdbParams(params: readonly unknown[]): DuckDbParams {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  for (const p of params) {
    const [value, type] = typed(p);
    values.push(value);
    types.push(type);
  }
  return { values, types };
}

function typed(value: unknown): [DuckDBValue, DuckDBType] {
  const scalar = scalarType(value);
  if (scalar !== undefined) return [value as DuckDBValue, scalar];
  if (Array.isArray(value) && value.length > 0) {
    const first = scalarType(value[0]);
    if (first !== undefined && first !== SQLNULL && value.every((v) => scalarType(v) === first || v === null)) {
      return [listValue(value as DuckDBValue[]), LIST(first)];
    }
  }
  return [JSON.stringify(value), VARCHAR];
}

function scalarType(value: unknown): DuckDBType | undefined {
  if (value === null) return SQLNULL;
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? BIGINT : DOUBLE;
    case 'string':
      return VARCHAR;
    case 'boolean':
      return BOOLEAN;
    default:
      return undefined;
  }
}
