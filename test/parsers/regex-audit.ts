/**
 * Collects every regular expression in a TypeScript module's source, by walking the syntax tree
 * (regex literals, and any `RegExp(...)` construction, which the audit refuses because its
 * pattern cannot be checked from the text).
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

export interface FoundRegex {
  file: string;
  line: number;
  source: string;
  flags: string;
}

export interface RegexScan {
  literals: FoundRegex[];
  /** `new RegExp(...)` / `RegExp(...)` calls: patterns built at run time. */
  constructed: Array<{ file: string; line: number; text: string }>;
}

export function scanRegexes(file: string): RegexScan {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const scan: RegexScan = { literals: [], constructed: [] };
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const lit = node.getText(sf);
      const end = lit.lastIndexOf('/');
      scan.literals.push({ file, line: lineOf(node), source: lit.slice(1, end), flags: lit.slice(end + 1) });
    }
    if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
      scan.constructed.push({ file, line: lineOf(node), text: node.getText(sf).slice(0, 80) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return scan;
}
