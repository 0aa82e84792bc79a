import { XMLParser, XMLValidator } from "fast-xml-parser";

/** An element of a parsed SVG: its name, attributes, children and text. */
export interface SvgElement {
  name: string;
  attributes: Record<string, string>;
  children: SvgElement[];
  text: string;
}

type Ordered = Record<string, unknown> & { ":@"?: Record<string, string> };

/** Parses SVG text; throws when it is not well-formed XML or its root is not an <svg> element. */
export function parseSvg(text: string): SvgElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", preserveOrder: true, parseAttributeValue: false, trimValues: false });
  const roots = (parser.parse(text) as Ordered[]).map(toElement).filter((e): e is SvgElement => e !== undefined);
  if (roots.length !== 1 || roots[0].name !== "svg") throw new Error(`root is not one <svg> element: ${roots.map((r) => r.name).join(", ")}`);
  const root = roots[0];
  if (root.attributes.xmlns !== "http://www.w3.org/2000/svg") throw new Error("the <svg> root has no SVG namespace");
  return root;
}

function toElement(node: Ordered): SvgElement | undefined {
  const name = Object.keys(node).find((key) => key !== ":@");
  if (name === undefined || name === "#text" || name.startsWith("?")) return undefined;
  const content = (node[name] as Ordered[]) ?? [];
  return {
    name,
    attributes: node[":@"] ?? {},
    children: content.map(toElement).filter((e): e is SvgElement => e !== undefined),
    text: content.map((child) => (typeof child["#text"] === "string" || typeof child["#text"] === "number" ? String(child["#text"]) : "")).join(""),
  };
}

/** Every element below root (depth first) that matches. */
export function findAll(root: SvgElement, match: (e: SvgElement) => boolean): SvgElement[] {
  const found: SvgElement[] = [];
  const visit = (e: SvgElement): void => {
    if (match(e)) found.push(e);
    e.children.forEach(visit);
  };
  visit(root);
  return found;
}

export function hasClass(e: SvgElement, name: string): boolean {
  return (e.attributes.class ?? "").split(" ").includes(name);
}

/** The `<g>` of every Vega mark with this name: one, or one per series when the mark is split by a field (a line per color). */
export function markGroups(root: SvgElement, markName: string): SvgElement[] {
  return findAll(root, (e) => e.name === "g" && hasClass(e, markName));
}

/** The drawn items of the Vega mark with this name: the children of its `<g class="... name">`. */
export function markItems(root: SvgElement, markName: string): SvgElement[] {
  const groups = markGroups(root, markName);
  if (groups.length !== 1) throw new Error(`expected one mark group ${markName}, found ${groups.length}`);
  return groups[0].children;
}

/** An element's text and that of its descendants (a multi-line title is a `<text>` of `<tspan>`s), joined by spaces. */
export function textContent(e: SvgElement): string {
  return [e.text, ...e.children.map(textContent)].filter((part) => part !== "").join(" ");
}

/** The title and subtitle of the whole chart: the outermost Vega title (views of a concatenated chart have their own, deeper down). */
export function chartTitle(root: SvgElement): { title: string; subtitle: string } {
  // Breadth first: the first title met is the outermost.
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const e = queue[i];
    if (hasClass(e, "role-title")) {
      const text = (part: string): string =>
        findAll(e, (d) => hasClass(d, part))
          .map(textContent)
          .join(" ");
      return { title: text("role-title-text"), subtitle: text("role-title-subtitle") };
    }
    queue.push(...e.children);
  }
  throw new Error("the chart has no title");
}
