/**
 * The shipped module's frame: the helpers the recreating statements call, the variables
 * they fill, and the export worker/load-function.ts looks for (`exports.handler`).
 */

/** Every name the module itself defines starts with this, so none clashes with a captured variable. */
export const PREFIX = "__lithops$";

export const HELPERS = {
  /** Takes the function out of a one-member object literal made from a method's source. */
  method: `${PREFIX}method`,
  /** An ArrayBuffer from base64. */
  bytes: `${PREFIX}bytes`,
  /** A module namespace object (`import * as ns`) over a required module's exports. */
  namespace: `${PREFIX}namespace`,
};

const helperDefinitions = [
  `const ${HELPERS.method} = (holder) => { const member = Object.getOwnPropertyDescriptor(holder, Reflect.ownKeys(holder)[0]); return member.get ?? member.set ?? member.value; };`,
  `const ${HELPERS.bytes} = (base64) => { const bytes = Buffer.from(base64, "base64"); return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length); };`,
  `const ${HELPERS.namespace} = (exported) => Object.freeze(Object.assign(Object.create(null), exported, { default: exported }));`,
];

export interface ModuleParts {
  /** The variables, one per recreated object, function or unique symbol. */
  declarations: string[];
  statements: string[];
  /** The expression of the shipped function. */
  handler: string;
}

export function moduleText({ declarations, statements, handler }: ModuleParts): string {
  return [...helperDefinitions, `let ${declarations.join(", ")};`, ...statements, `exports.handler = ${handler};`, ""].join("\n");
}
