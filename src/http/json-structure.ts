/**
 * What JSON.parse lets through but we must not: a key given twice in one object (JSON.parse
 * keeps the last, a receiver may read the first, so the type we route on and the bytes we
 * forward would disagree) and nesting deeper than anything real (it overflows the stack of
 * whatever recurses into it later: a renderer, a filter, a serialiser).
 *
 * One pass over text that JSON.parse has already accepted, without recursion.
 */
export interface JsonStructureProblem {
  /** Where, as a dotted path (`Message.ID`), or "" for the document itself. */
  path: string;
  why: string;
}

// What may follow a number's first character (digits, fraction, exponent).
const NUMBER_CHAR = /[0-9.eE+-]/;

interface Frame {
  kind: "object" | "array";
  keys?: Set<string>;
  /** The current key (object) or index (array). */
  at: string | number;
  expectKey: boolean;
}

export interface JsonStructureRules {
  /**
   * Refuse a number a double cannot hold: JSON.parse reads `1e400` as Infinity (and
   * `1e-400` as 0), which JSON.stringify then writes as `null` (or 0), so a setting saved
   * from it would not be the one given, and could not be saved back.
   */
  finiteNumbers?: boolean;
}

export function jsonStructureProblem(text: string, maxDepth: number, rules: JsonStructureRules = {}): JsonStructureProblem | null {
  const stack: Frame[] = [];
  // The path to a key of the innermost object: each open container's current key or index.
  const pathTo = (key: string) => [...stack.slice(0, -1).map((frame) => frame.at), key].join(".");
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (rules.finiteNumbers && (ch === 0x2d /* - */ || (ch >= 0x30 && ch <= 0x39))) {
      // Outside strings a digit or a minus starts a number; it runs to the next delimiter.
      let end = i + 1;
      while (end < text.length && NUMBER_CHAR.test(text[end]!)) end++;
      const literal = text.slice(i, end);
      const value = Number(literal);
      if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(literal.split(/[eE]/)[0]!))) {
        const shown = literal.length > 24 ? `${literal.slice(0, 20)}…` : literal;
        return { path: stack.map((frame) => frame.at).join("."), why: `must be a number a 64-bit double can hold (${shown} would be read as ${value})` };
      }
      i = end - 1;
    } else if (ch === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (c === 0x22) break;
      }
      const frame = stack[stack.length - 1];
      if (frame?.kind === "object" && frame.expectKey) {
        const raw = text.slice(start + 1, i);
        // "\u0045vent" is "Event": compare keys as JSON reads them.
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        if (frame.keys!.has(key)) return { path: pathTo(key), why: "key given twice; each key may appear once" };
        frame.keys!.add(key);
        frame.at = key;
        frame.expectKey = false;
      }
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      // Named by its first two levels: the full path would be as long as the nesting.
      if (stack.length >= maxDepth) {
        return {
          path:
            stack[0]!.kind === "object"
              ? stack
                  .slice(0, 2)
                  .map((frame) => frame.at)
                  .join(".")
              : "",
          why: `nested deeper than ${maxDepth} levels`,
        };
      }
      stack.push(ch === 0x7b ? { kind: "object", keys: new Set(), at: "", expectKey: true } : { kind: "array", at: 0, expectKey: false });
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
    } else if (ch === 0x2c /* , */) {
      const frame = stack[stack.length - 1]!;
      if (frame.kind === "object") frame.expectKey = true;
      else frame.at = (frame.at as number) + 1;
    }
  }
  return null;
}
