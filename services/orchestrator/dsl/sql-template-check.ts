/**
 * Templates in a step's SQL bind as parameters (common/sql-templates.ts); one
 * that stands where a parameter cannot (inside quotes or a comment, glued to
 * other SQL, where a name belongs) is reported at check time, with the field's
 * position, rather than failing at run time.
 */
import { sqlTemplateProblems } from '../../../common/sql-templates.ts';
import type { Report } from './check-playbook.ts';
import { TASKS_TOOL, toolsOf, type Playbook } from './model.ts';

/** The options of each tool that hold SQL. */
export const SQL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  duckdb: ['sql'],
  postgres: ['sql'],
  clickhouse: ['query', 'command'],
};

export function checkSqlTemplates(p: Playbook, report: Report): void {
  for (const s of p.steps) {
    toolsOf(s).forEach((tool, i) => {
      const at = s.tool.kind === TASKS_TOOL ? [...s.path, 'tool', i] : [...s.path, 'tool'];
      for (const field of SQL_FIELDS[tool.kind] ?? []) {
        const text = tool[field];
        if (typeof text !== 'string') continue;
        for (const problem of sqlTemplateProblems(text))
          report('E_PLAYBOOK_SQL_TEMPLATE', [...at, field], `step "${s.name}": ${problem}`);
      }
    });
  }
}
