import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Each module of src/ offers its public surface through one index.ts. These
// checks keep that list honest against the files it re-exports and against
// what the rest of the repository actually imports. Files are parsed one by
// one (no type checker, no program), which keeps the whole check well under a
// second; the names it cannot see (types merged across files, say) are the
// type checker's job in `tsc --noEmit`.

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCANNED = ['src', 'handlers', 'deploy', 'test', 'bench'];
/** The application at the top: nothing imports it through a barrel. */
const WITHOUT_BARREL = new Set(['cli']);

/** One name as a file offers it: a local declaration, or a re-export to follow. */
type Export = { readonly kind: 'local' } | { readonly kind: 'from'; readonly file: string | undefined; readonly name: string; readonly specifier: string };

interface ImportUse {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  /** The names taken; `undefined` for a namespace import, which takes them all. */
  readonly names: readonly string[] | undefined;
}

interface SourceFacts {
  readonly exports: Map<string, Export>;
  readonly exportStars: { readonly file: string | undefined; readonly specifier: string; readonly line: number }[];
  readonly imports: ImportUse[];
}

function listTypeScript(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes(`${sep}fixtures${sep}`))
    .sort();
}

/** A relative specifier as Node resolves it under NodeNext, with `.js` standing for `.ts`. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
}

const hasExportModifier = (node: ts.Node): boolean => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);

function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((element) => (ts.isOmittedExpression(element) ? [] : bindingNames(element.name)));
}

function readFacts(file: string): SourceFacts {
  const options = { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone };
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), options, false, ts.ScriptKind.TS);
  const lineOf = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const exports = new Map<string, Export>();
  const exportStars: SourceFacts['exportStars'] = [];
  const imports: ImportUse[] = [];
  /** Local names bound by an import, so that `import { a } …; export { a };` is followed to its origin. */
  const imported = new Map<string, { file: string | undefined; name: string; specifier: string }>();

  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const specifier = statement.moduleSpecifier.text;
      const target = resolveSpecifier(file, specifier);
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      let names: string[] | undefined = [];
      if (clause?.name !== undefined) names.push('default');
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) names = undefined;
      else if (bindings !== undefined) {
        for (const element of bindings.elements) {
          const name = (element.propertyName ?? element.name).text;
          names.push(name);
          imported.set(element.name.text, { file: target, name, specifier });
        }
      }
      if (target !== undefined) imports.push({ file, line: lineOf(statement), target, names });
      continue;
    }
    if (ts.isExportDeclaration(statement)) {
      const specifier = statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
      const target = specifier === undefined ? undefined : resolveSpecifier(file, specifier);
      const clause = statement.exportClause;
      if (clause === undefined) {
        if (specifier !== undefined) exportStars.push({ file: target, specifier, line: lineOf(statement) });
        if (target !== undefined) imports.push({ file, line: lineOf(statement), target, names: undefined });
        continue;
      }
      if (ts.isNamespaceExport(clause)) {
        exports.set(clause.name.text, { kind: 'local' });
        if (target !== undefined) imports.push({ file, line: lineOf(statement), target, names: undefined });
        continue;
      }
      const names: string[] = [];
      for (const element of clause.elements) {
        const local = (element.propertyName ?? element.name).text;
        const exported = element.name.text;
        if (specifier !== undefined) {
          names.push(local);
          exports.set(exported, { kind: 'from', file: target, name: local, specifier });
        } else {
          const binding = imported.get(local);
          exports.set(exported, binding === undefined ? { kind: 'local' } : { kind: 'from', ...binding });
        }
      }
      if (target !== undefined) imports.push({ file, line: lineOf(statement), target, names });
      continue;
    }
    if (!hasExportModifier(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) for (const name of bindingNames(declaration.name)) exports.set(name, { kind: 'local' });
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement) ||
        ts.isModuleDeclaration(statement)) &&
      statement.name !== undefined &&
      ts.isIdentifier(statement.name)
    ) {
      exports.set(statement.name.text, { kind: 'local' });
    }
  }
  return { exports, exportStars, imports };
}

const files = SCANNED.flatMap((directory) => listTypeScript(join(ROOT, directory)));
const facts = new Map(files.map((file) => [file, readFacts(file)]));
const show = (file: string): string => relative(ROOT, file).split(sep).join('/');

/** Where a name a file exports is declared, following re-exports (`export *` included); undefined if the file does not export it. */
function origin(file: string, name: string, seen = new Set<string>()): string | undefined {
  const key = `${file}#${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const fileFacts = facts.get(file);
  if (fileFacts === undefined) return undefined;
  const entry = fileFacts.exports.get(name);
  if (entry?.kind === 'local') return key;
  if (entry?.kind === 'from') return entry.file === undefined ? undefined : origin(entry.file, entry.name, seen);
  for (const star of fileFacts.exportStars) {
    const found = star.file === undefined || name === 'default' ? undefined : origin(star.file, name, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every name a file exports, `export *` included. */
function exportedNames(file: string, seen = new Set<string>()): string[] {
  const fileFacts = facts.get(file);
  if (fileFacts === undefined || seen.has(file)) return [];
  seen.add(file);
  return [...fileFacts.exports.keys(), ...fileFacts.exportStars.flatMap((star) => (star.file === undefined ? [] : exportedNames(star.file, seen)))];
}

const SRC = join(ROOT, 'src');
const moduleNames = readdirSync(SRC, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const barrels = files.filter((file) => file.startsWith(SRC + sep) && file.endsWith(`${sep}index.ts`));
const moduleOf = (file: string): string | undefined => {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 && !parts[0]?.startsWith('..') ? parts[0] : undefined;
};

describe('module barrels', () => {
  it('every module of src/ but the CLI has an index.ts', () => {
    const missing = moduleNames.filter((name) => !WITHOUT_BARREL.has(name) && !existsSync(join(SRC, name, 'index.ts')));
    expect(missing).toEqual([]);
  });

  describe.each(barrels.map((file) => [show(file), file] as const))('%s', (_name, barrel) => {
    const barrelFacts = facts.get(barrel) as SourceFacts;
    const home = moduleOf(barrel);

    it('lists its names: no `export *`', () => {
      expect(barrelFacts.exportStars.map((star) => `line ${star.line}: export * from '${star.specifier}'`)).toEqual([]);
    });

    it('re-exports only names its files declare', () => {
      const broken = [...barrelFacts.exports]
        .filter(([, entry]) => entry.kind === 'from')
        .filter(([exported]) => origin(barrel, exported) === undefined)
        .map(([exported, entry]) => (entry.kind === 'from' ? `${exported}: '${entry.specifier}' does not export ${entry.name}` : exported));
      expect(broken).toEqual([]);
    });

    it('re-exports only its own module', () => {
      const foreign = [...barrelFacts.exports]
        .flatMap(([exported, entry]) => (entry.kind === 'from' && entry.file !== undefined && moduleOf(entry.file) !== home ? [`${exported} from '${entry.specifier}'`] : []))
        .concat(barrelFacts.exportStars.flatMap((star) => (star.file !== undefined && moduleOf(star.file) !== home ? [`* from '${star.specifier}'`] : [])));
      expect(foreign).toEqual([]);
    });
  });

  describe.each(moduleNames.filter((name) => existsSync(join(SRC, name, 'index.ts'))).map((name) => [name] as const))('src/%s/index.ts', (name) => {
    const barrel = join(SRC, name, 'index.ts');
    const directory = join(SRC, name) + sep;

    // Tests may reach into a module for the one file they test (a unit test imports only what it tests);
    // the application, the deployment's generator and the benchmarks use a module as its users do, through its barrel.
    it('offers every name that code outside the module (src, handlers, deploy, bench) imports from its files', () => {
      const reachable = new Set(exportedNames(barrel).map((exported) => origin(barrel, exported)));
      const missing = new Set<string>();
      for (const [file, fileFacts] of facts) {
        if (file.startsWith(directory) || file.startsWith(join(ROOT, 'test') + sep)) continue;
        for (const use of fileFacts.imports) {
          if (!use.target.startsWith(directory) || use.target === barrel) continue;
          for (const imported of use.names ?? exportedNames(use.target)) {
            const declared = origin(use.target, imported);
            // A name the file does not export is a type error, which tsc reports.
            if (declared !== undefined && !reachable.has(declared)) missing.add(`${imported} (declared in ${show(declared.split('#')[0] as string)}) is imported by ${show(file)}:${use.line}`);
          }
        }
      }
      expect([...missing].sort()).toEqual([]);
    });
  });
});
