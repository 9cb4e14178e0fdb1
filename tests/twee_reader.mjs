// Reads a Twee 3 file with extwee, an independent Twee parser, and prints what it found as
// JSON: the story's name, start and format, every passage, and any warning the parser gave.
// Usage: node tests/twee_reader.mjs PATH/TO/extwee/index.js STORY.twee
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [extwee, file] = process.argv.slice(2);
const { parseTwee } = await import(pathToFileURL(extwee).href);
const warnings = [];
console.warn = (...args) => warnings.push(args.join(" "));
console.info = (...args) => warnings.push(args.join(" "));
const story = parseTwee(readFileSync(file, "utf8"));
process.stdout.write(JSON.stringify({
  name: story.name,
  start: story.start,
  format: story.format,
  passages: story.passages.map((p) => ({ name: p.name, tags: p.tags, text: p.text })),
  warnings,
}));
