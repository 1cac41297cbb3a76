/**
 * JSON-logic compiled once into a JavaScript function, with json-logic-js's exact semantics: the
 * hot path of rule matching. json-logic-js re-reads the rule on every call (Object.keys twice per
 * node, a fresh argument array, a registry lookup, a dynamic property walk per `var`); a compiled
 * criteria does that work once, and each rule gets its own function, so V8's inline caches see one
 * payload shape per property read instead of every rule's.
 *
 * Exact by construction: each operator compiled here is json-logic-js 2.0.5's own code (argument
 * evaluation order, `and`/`or` returning the deciding value, loose `==`, `in` on anything with an
 * `indexOf`, the scoped iterators, even the parameter names that appear in a TypeError); Reflex's
 * operators are the very functions registered on json-logic-js; every other operator (`missing`,
 * arithmetic, `cat`, `reduce`, an unknown one ...) hands its whole subtree to json-logic-js. The
 * differential test (compiled-logic.test.ts) holds the two to the same values and errors.
 *
 * Generated code never contains text from the rule except property names, written with
 * JSON.stringify (a string literal); every other literal is passed in the constants array `k`.
 */
import { jsonLogic } from './json-logic.ts';
import { operations as customOperations } from './operators.ts';

export type Evaluator = (data: unknown) => unknown;

/** jsonLogic.truthy: `[]` is false, everything else as JavaScript. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value) && value.length === 0) return false;
  return !!value;
}

function isLogic(node: unknown): node is Record<string, unknown> {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length === 1;
}

function isPrimitive(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `a OP b` for the two-argument comparisons, as json-logic-js writes them. */
const BINARY: ReadonlyMap<string, string> = new Map([
  ['==', 'return a == b;'],
  ['===', 'return a === b;'],
  ['!=', 'return a != b;'],
  ['!==', 'return a !== b;'],
  ['>', 'return a > b;'],
  ['>=', 'return a >= b;'],
  ['in', 'if (!b || typeof b.indexOf === "undefined") return false; return (b.indexOf(a) !== -1);'],
  ['<', 'return (c === undefined) ? a < b : (a < b) && (b < c);'],
  ['<=', 'return (c === undefined) ? a <= b : (a <= b) && (b <= c);'],
]);

const SCOPED = new Set(['some', 'all', 'none', 'filter', 'map']);

/** Builds the source of one function per node; the root is `n0`. */
class Generator {
  readonly functions: string[] = [];
  /** Literals and json-logic nodes the generated code refers to as `k[i]`. */
  readonly constants: unknown[] = [];
  /** Reflex operator functions, as `f[i]`. */
  readonly operators: unknown[] = [];

  constant(value: unknown): string {
    this.constants.push(value);
    return `k[${this.constants.length - 1}]`;
  }

  /** Emits the function for `node`; returns its name. */
  node(node: unknown): string {
    const name = `n${this.functions.length}`;
    this.functions.push('');
    this.functions[Number(name.slice(1))] = `function ${name}(d) { ${this.body(node)} }`;
    return name;
  }

  /** Evaluates `values` left to right into locals named `names` (a json-logic-js `values.map(apply)`). */
  args(values: readonly unknown[], names: readonly string[]): string {
    let code = '';
    values.forEach((value, i) => {
      const fn = this.node(value);
      code += i < names.length ? `const ${names[i]} = ${fn}(d); ` : `${fn}(d); `;
    });
    for (let i = values.length; i < names.length; i += 1) code += `const ${names[i]} = undefined; `;
    return code;
  }

  body(node: unknown): string {
    if (Array.isArray(node)) return `return [${node.map((item) => `${this.node(item)}(d)`).join(', ')}];`;
    if (!isLogic(node)) return `return ${this.constant(node)};`;
    const op = Object.keys(node)[0]!;
    const raw = node[op];
    const values: readonly unknown[] = Array.isArray(raw) ? raw : [raw];

    if (op === 'and' || op === 'or') {
      const stop = op === 'and' ? '!t(c)' : 't(c)';
      return `let c; ${values.map((v) => `c = ${this.node(v)}(d); if (${stop}) return c; `).join('')}return c;`;
    }
    if (op === 'if' || op === '?:') {
      let code = '';
      let i = 0;
      for (; i < values.length - 1; i += 2) code += `if (t(${this.node(values[i])}(d))) return ${this.node(values[i + 1])}(d); `;
      return values.length === i + 1 ? `${code}return ${this.node(values[i])}(d);` : `${code}return null;`;
    }
    if (SCOPED.has(op)) return this.scoped(op, values);
    if (op === 'var') return this.variable(values);
    if (op === '!' || op === '!!') return `${this.args(values, ['a'])}return ${op === '!' ? '!' : ''}t(a);`;
    if (op === 'in' && values.length === 2 && Array.isArray(values[1]) && values[1].every(isPrimitive)) {
      // A literal list never escapes `indexOf`: one copy serves every call.
      return `const a = ${this.node(values[0])}(d); return ${this.constant([...values[1]])}.indexOf(a) !== -1;`;
    }
    const binary = BINARY.get(op);
    if (binary !== undefined) return `${this.args(values, ['a', 'b', 'c'])}${binary}`;
    if (Object.prototype.hasOwnProperty.call(customOperations, op)) {
      const index = this.operators.push(customOperations[op]) - 1;
      const names = values.map((_, i) => `a${i}`);
      return `${this.args(values, names)}return f[${index}].call(d${names.map((n) => `, ${n}`).join('')});`;
    }
    // Every other operator (and an unknown one, which throws as json-logic-js does) runs there.
    return `return J(${this.constant(node)}, d);`;
  }

  /** json-logic-js's `var`; a literal path is unrolled into property reads. */
  variable(values: readonly unknown[]): string {
    const path = values[0];
    if (values.length === 1 && (typeof path === 'string' || typeof path === 'number') && path !== '') {
      let code = 'let c = d; ';
      for (const segment of String(path).split('.')) {
        code += `if (c === null || c === undefined) return null; c = c[${JSON.stringify(segment)}]; if (c === undefined) return null; `;
      }
      return `${code}return c;`;
    }
    return (
      `${this.args(values, ['a', 'b'])}const notFound = (b === undefined) ? null : b; ` +
      'if (typeof a === "undefined" || a === "" || a === null) return d; ' +
      'let c = d; const p = String(a).split("."); ' +
      'for (let i = 0; i < p.length; i++) { if (c === null || c === undefined) return notFound; c = c[p[i]]; if (c === undefined) return notFound; } ' +
      'return c;'
    );
  }

  /** `some`, `all`, `none`, `filter`, `map`: the second argument runs with each item as its data. */
  scoped(op: string, values: readonly unknown[]): string {
    const items = `const s = ${this.node(values[0])}(d); `;
    const fn = this.node(values[1]);
    switch (op) {
      case 'filter':
        return `${items}if (!Array.isArray(s)) return []; return s.filter((x) => t(${fn}(x)));`;
      case 'map':
        return `${items}if (!Array.isArray(s)) return []; return s.map((x) => ${fn}(x));`;
      case 'all':
        return `${items}if (!Array.isArray(s) || !s.length) return false; for (let i = 0; i < s.length; i += 1) { if (!t(${fn}(s[i]))) return false; } return true;`;
      case 'none':
        return `${items}if (!Array.isArray(s) || !s.length) return true; for (let i = 0; i < s.length; i += 1) { if (t(${fn}(s[i]))) return false; } return true;`;
      default: // some
        return `${items}if (!Array.isArray(s) || !s.length) return false; for (let i = 0; i < s.length; i += 1) { if (t(${fn}(s[i]))) return true; } return false;`;
    }
  }
}

type Factory = (k: unknown[], f: unknown[], t: (value: unknown) => boolean, J: (logic: unknown, data: unknown) => unknown) => Evaluator;

/** Compiles JSON-logic (validated or not) into a function of the data. */
export function compile(logic: unknown): Evaluator {
  if (!isLogic(logic) && !Array.isArray(logic)) return () => logic;
  const gen = new Generator();
  gen.node(logic);
  const source = `"use strict"; ${gen.functions.join('\n')}\nreturn n0;`;
  // The generated source holds no rule text but JSON.stringify'd property names (see above).
  const factory = new Function('k', 'f', 't', 'J', source) as Factory;
  return factory(gen.constants, gen.operators, truthy, jsonLogic.apply);
}
