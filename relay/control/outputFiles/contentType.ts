/**
 * Content type of a produced file, by its extension only (never sniffed from its bytes: a swarm's text
 * must not become HTML in the relay's origin), and the Content-Disposition that names it. Types a browser
 * would run or render as active content (html, svg, js) are served as text/plain or octet-stream, so
 * opening a file the swarm wrote can never execute it in the page's origin.
 */

const TEXT = 'text/plain; charset=utf-8';

/** Lower-case extension -> type. Only passive types; everything else is application/octet-stream. */
const TYPES: Record<string, string> = {
  txt: TEXT,
  log: TEXT,
  text: TEXT,
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  yaml: 'text/yaml; charset=utf-8',
  yml: 'text/yaml; charset=utf-8',
  toml: TEXT,
  xml: TEXT,
  ini: TEXT,
  cfg: TEXT,
  conf: TEXT,
  diff: TEXT,
  patch: TEXT,
  // Source code is shown as text (executable types stay inert).
  ts: TEXT,
  tsx: TEXT,
  js: TEXT,
  mjs: TEXT,
  cjs: TEXT,
  jsx: TEXT,
  py: TEXT,
  rb: TEXT,
  go: TEXT,
  rs: TEXT,
  java: TEXT,
  c: TEXT,
  h: TEXT,
  cpp: TEXT,
  hpp: TEXT,
  sh: TEXT,
  sql: TEXT,
  css: TEXT,
  html: TEXT,
  htm: TEXT,
  svg: TEXT,
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/octet-stream',
};

export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return name.toLowerCase() === 'readme' || name.toLowerCase() === 'license' ? TEXT : 'application/octet-stream';
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** Whether the page may show the file as text (the console's preview). */
export function isTextType(type: string): boolean {
  return type.startsWith('text/') || type === 'application/json' || type === 'application/x-ndjson';
}

/**
 * `attachment` (or `inline`) with the base name: an ASCII fallback in `filename` (quotes, backslashes and
 * controls replaced) and the exact name in RFC 5987 `filename*`.
 */
export function contentDisposition(path: string, inline = false): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'file';
  const star = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${star}`;
}
