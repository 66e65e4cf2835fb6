// Groups a wasm's bytes by crate, for the size profile (bench/size-profile.sh runs it).
//
//   node bench/size-by-crate.mjs --twiggy top.csv [--map link.map] [--top 20]
//
// --twiggy: `twiggy top -n 1000000 -f csv X_bg.wasm` of a wasm that still has its name section
//   (an un-optimised wasm-bindgen output). Functions are put under the first non-std crate
//   their demangled name mentions (`core::ptr::drop_in_place<worker::Error>` -> worker,
//   `url::parser::..` -> url), std only when none is; inlined code counts for its caller.
// --map: the wasm-ld link map of the same build (RUSTFLAGS="-C link-arg=--Map=FILE"), which
//   names the object (so the crate) each piece of .rodata/.data came from. twiggy cannot: data
//   segments have no owner in the wasm itself.
// Prints Markdown tables. Node built-ins only; any Node >= 18.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { twiggy: { type: 'string' }, map: { type: 'string' }, top: { type: 'string', default: '20' } } });
if (!values.twiggy && !values.map) {
  console.error('usage: node bench/size-by-crate.mjs --twiggy top.csv [--map link.map] [--top 20]');
  process.exit(2);
}
const TOP = Number(values.top);
const STD = new Set(['core', 'alloc', 'std', 'dlmalloc', 'compiler_builtins', 'hashbrown', 'panic_abort', 'rustc_demangle', 'std_detect']);
const PRIMITIVES = /^(?:&(?:mut )?|\*(?:const|mut) )?(?:[iu](?:8|16|32|64|128|size)|f32|f64|bool|char|str|\[.*|\(.*|T|F|S|A|B|E|K|V|dyn .*)$/;

/** The crate a demangled function name belongs to, or a bucket for what is no function. */
function crateOf(name) {
  if (/^"function names" subsection|^"(?:local|data|type|global|table|memory|elem|module) names" subsection/.test(name)) return '(name section: function/data names)';
  if (/^data segment/.test(name)) return '(data segments: see the link map table)';
  if (/^(?:type|table|elem|global|memory)\[\d+\]|^"?producers"?|custom section|^import |^export /.test(name)) return '(wasm structure: types, imports, exports, tables)';
  if (/^__wbg_|^__wbindgen|^__externref|wasm_bindgen::convert|wasm_bindgen::closure|^wasm_bindgen/.test(name)) return 'wasm_bindgen';
  // The first crate path the name mentions that is not std's: `core::ptr::drop_in_place<worker::Error>`
  // and `alloc::vec::Vec<url::Host>::reserve` count for worker and url, the crates whose use
  // made them. Std only when nothing else is named.
  let stdModule = null;
  for (const match of name.matchAll(/(?<![A-Za-z0-9_:])([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::([A-Za-z_][A-Za-z0-9_]*)?/g)) {
    const [, segment, next] = match;
    if (PRIMITIVES.test(segment) || segment === 'impl') continue;
    if (!STD.has(segment)) return segment;
    // std split by module (`core::fmt`, `core::num`, ...), so float formatting shows up.
    stdModule ??= segment === 'dlmalloc' || segment === 'compiler_builtins' ? segment : `${segment === 'std' || segment === 'alloc' ? segment : 'core'}::${next ?? '?'}`;
  }
  if (stdModule) return `std: ${stdModule}`;
  return /^code\[\d+\]$/.test(name) ? '(unnamed functions)' : '(other)';
}

function csvRows(text) {
  const rows = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line.trim()) continue;
    // name may be quoted with "" escapes; the numbers follow.
    const match = /^("(?:[^"]|"")*"|[^,]*),(\d+),/.exec(line);
    if (!match) continue;
    const name = match[1].startsWith('"') ? match[1].slice(1, -1).replaceAll('""', '"') : match[1];
    rows.push({ name, size: Number(match[2]) });
  }
  return rows;
}

function table(title, counts, total, note) {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, TOP);
  const rest = sorted.slice(TOP).reduce((sum, [, bytes]) => sum + bytes, 0);
  console.log(`#### ${title}\n`);
  if (note) console.log(`${note}\n`);
  console.log('| crate | bytes | share |\n|---|---:|---:|');
  for (const [crate, bytes] of shown) console.log(`| ${crate} | ${bytes.toLocaleString('en-US')} | ${((100 * bytes) / total).toFixed(1)}% |`);
  if (rest) console.log(`| (${sorted.length - TOP} more) | ${rest.toLocaleString('en-US')} | ${((100 * rest) / total).toFixed(1)}% |`);
  console.log(`| **total** | **${total.toLocaleString('en-US')}** | |\n`);
}

if (values.twiggy) {
  const rows = csvRows(readFileSync(values.twiggy, 'utf8')).filter((row) => !/^Σ|^\.\.\. and \d+ more/.test(row.name));
  const counts = new Map();
  let total = 0;
  for (const { name, size } of rows) {
    const crate = crateOf(name);
    counts.set(crate, (counts.get(crate) ?? 0) + size);
    total += size;
  }
  table('Whole wasm by crate (twiggy items)', counts, total, 'Functions by the first non-std crate their demangled name mentions (std only when none is), so std generics count for the crate that instantiated them; code inlined into a caller counts for the caller.');
}

if (values.map) {
  // wasm-ld's map: "Addr Off Size Out In Symbol"; a section line has no indentation after
  // Size, an input (object) line some, a symbol line more.
  const sections = new Map(); // section -> Map(crate -> bytes)
  let section = null;
  for (const line of readFileSync(values.map, 'utf8').split('\n')) {
    const match = /^\s*\S+\s+[0-9a-f]+\s+([0-9a-f]+) (\s*)(.*)$/.exec(line);
    if (!match) continue;
    const [, hexSize, indent, rest] = match;
    if (indent.length === 0) {
      section = rest.trim();
      continue;
    }
    if (indent.length > 12 || !['.rodata', '.data', 'CODE'].includes(section)) continue;
    if (/\(__wbindgen_describe/.test(rest)) continue; // wasm-bindgen removes these
    const object = rest.replace(/:\(.*$/, '');
    const crate =
      object === '<internal>' ? '(linker-internal)'
        : (/\blib([a-z0-9_]+)-[0-9a-f]+\.rlib\(/.exec(object)?.[1] ?? /([a-z0-9_]+)\.[a-z0-9_]+\.[0-9a-f]+-cgu/.exec(object)?.[1] ?? object);
    const key = STD.has(crate) ? 'Rust std (core/alloc/std/dlmalloc)' : crate;
    const bucket = sections.get(section) ?? new Map();
    bucket.set(key, (bucket.get(key) ?? 0) + parseInt(hexSize, 16));
    sections.set(section, bucket);
  }
  const data = new Map();
  for (const name of ['.rodata', '.data']) for (const [crate, bytes] of sections.get(name) ?? []) data.set(crate, (data.get(crate) ?? 0) + bytes);
  table('Data (.rodata + .data) by crate (link map)', data, [...data.values()].reduce((a, b) => a + b, 0), 'Before wasm-opt, which keeps the data (it only merges and trims zeros).');
  const code = sections.get('CODE') ?? new Map();
  table('Code by object file (link map)', code, [...code.values()].reduce((a, b) => a + b, 0),
    'Before wasm-bindgen and wasm-opt remove dead and descriptor code. With LTO, generic code instantiated by this crate sits in `freedom_id_edge`\'s object; the other rows are code compiled in the crate itself.');
}
