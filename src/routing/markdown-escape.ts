// Markdown as Discord and Adaptive Cards (Teams) read it: the escape, and a text escaped and cut to a limit.
import { cutToFit } from "./plain-text";

// Each escape works on one character (grapheme) of text that `plainText` already made
// plain, so `cutToFit` can cut between escapes, never inside one.

/**
 * Markdown (Discord, Adaptive Cards): a backslash before every character that formats, and
 * before a list marker that starts the text (`at`: where `chunk` starts in it).
 */
export const markdownEscape = (chunk: string, at = 0) => chunk.replace(/[\\`*_~|>#[\]()<]/g, "\\$&").replace(/^[-+]/, (m) => (at === 0 ? `\\${m}` : m));

export const markdown = (s: string, max: number) => cutToFit(s, max, markdownEscape);
