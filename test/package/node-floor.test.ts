import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The Node version the package asks for (engines, and the bin's check) is one
 * where every Node API the build calls exists. It said 22.13 while the ledger
 * used node:sqlite's setReturnArrays and isTransaction (22.16) and isOpen
 * (22.15): on 22.13 `strata report` of an evolve study died with
 * "TypeError: compiled.setReturnArrays is not a function".
 */

const ROOT = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const floor = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(manifest.engines.node);
const FLOOR = floor ? [Number(floor[1]), Number(floor[2]), Number(floor[3] ?? 0)] : [];
const NODE_TYPES = join(ROOT, 'node_modules/@types/node') + sep;

type Version = number[];
const compare = (a: Version, b: Version) => (a[0]! - b[0]!) || (a[1]! - b[1]!) || (a[2]! - b[2]!);
const show = (version: Version) => `v${version.join('.')}`;

/**
 * The first release of our major line that has an API, from its `@since`
 * (e.g. "v23.5.0, v22.13.0"): the release of that line when one is named,
 * none when it came before the line began, otherwise the earliest named (a
 * later line only: then it is missing from ours).
 */
function firstOnLine(since: string, major: number): Version | undefined {
  const versions = [...since.matchAll(/v?(\d+)\.(\d+)\.(\d+)/g)].map((match) => [Number(match[1]), Number(match[2]), Number(match[3])]);
  const onLine = versions.filter((version) => version[0] === major).sort(compare);
  if (onLine.length > 0) return onLine[0];
  if (versions.some((version) => version[0]! < major)) return undefined;
  return versions.sort(compare)[0];
}

describe('the Node version the package requires', () => {
  it('engines.node is a plain floor (>=MAJOR.MINOR[.PATCH])', () => {
    expect(FLOOR, manifest.engines.node).toHaveLength(3);
  });

  it('has every Node API the build uses (by the @since of its declaration in @types/node)', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.build.json'), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    })!;
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
    const checker = program.getTypeChecker();
    const tooNew = new Map<string, { since: Version; where: string }>();
    let seen = 0;

    for (const file of program.getSourceFiles()) {
      if (file.isDeclarationFile || !file.fileName.startsWith(join(ROOT, 'src') + sep)) continue;
      const visit = (node: ts.Node): void => {
        if (ts.isIdentifier(node)) {
          let symbol = checker.getSymbolAtLocation(node);
          if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
          const declarations = (symbol?.declarations ?? []).filter((declaration) => resolve(declaration.getSourceFile().fileName).startsWith(NODE_TYPES));
          // Overloads and merged declarations: the API is there once any of them is.
          const firsts = declarations.map((declaration) => {
            const since = ts.getJSDocTags(declaration).find((tag) => tag.tagName.text === 'since');
            return since ? firstOnLine(ts.getTextOfJSDocComment(since.comment) ?? '', FLOOR[0]!) : undefined;
          });
          if (declarations.length > 0) {
            seen++;
            const first = firsts.some((version) => version === undefined) ? undefined : firsts.sort((a, b) => compare(a!, b!))[0];
            if (first && compare(first, FLOOR) > 0) {
              const { line } = file.getLineAndCharacterOfPosition(node.getStart());
              tooNew.set(`${node.text} (since ${show(first)})`, { since: first, where: `${relative(ROOT, file.fileName)}:${line + 1}` });
            }
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }

    // The walk did reach Node's declarations (node:sqlite's DatabaseSync among them).
    expect(seen).toBeGreaterThan(100);
    expect(
      [...tooNew].map(([api, { where }]) => `${api} at ${where}`),
      `engines.node ${manifest.engines.node} is older than APIs the build uses`,
    ).toEqual([]);
  });

  it('an installed copy refuses a Node just below that floor in one line, and starts on the floor itself', () => {
    // The bin of an installed package (no src/ beside it); only the version it sees is faked.
    const installed = mkdtempSync(join(tmpdir(), 'strata-floor-'));
    mkdirSync(join(installed, 'bin'));
    copyFileSync(join(ROOT, 'bin/strata.js'), join(installed, 'bin/strata.js'));
    copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'));
    const as = (version: Version) =>
      spawnSync(
        process.execPath,
        [
          '--import',
          `data:text/javascript,Object.defineProperty(process,"version",{value:"${show(version)}"});Object.defineProperty(process.versions,"node",{value:"${version.join('.')}"})`,
          join(installed, 'bin/strata.js'),
          '--version',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const [major, minor] = FLOOR as [number, number, number];
    const below = as([major, minor - 1, 9]);
    expect(below.status).toBe(1);
    expect(below.stderr).toBe(
      `strata needs Node.js ${major}.${minor} or newer (this is v${major}.${minor - 1}.9): install Node ${major} LTS (https://nodejs.org), or run \`npx -p node@${major} strata --version\`\n`,
    );
    // On the floor it goes on to start the build, absent from this copy: the version check let it through.
    const on = as(FLOOR);
    expect(on.status).toBe(1);
    expect(on.stderr).toMatch(/^strata: the build is missing/);
  });
});
