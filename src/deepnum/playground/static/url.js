// The settings in the page's address (#dataset=spiral&hidden=8,8&...), so a link shares them.
// Each value is typed by the default it replaces: numbers, lists of numbers, lists of names.
// Network B of the compare view travels as b_hidden=8,8&b_dropout=0.2 (typed like hidden...).

export const PAGE_KEYS = { show_test: false, discretize: false, speed: 1, compare: false };
const B = "b_";

function typed(model, key, text) {
  if (Array.isArray(model)) {
    const items = text === "" ? [] : text.split(",");
    return key === "hidden" ? items.map(Number) : items;
  }
  if (typeof model === "number") return Number(text);
  if (typeof model === "boolean") return text === "1" || text === "true";
  return text;
}

export function readHash(defaults) {
  const found = {};
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const all = { ...defaults, ...PAGE_KEYS };
  for (const [key, text] of params) {
    const base = key.startsWith(B) ? key.slice(B.length) : key;
    found[key] = base in all ? typed(all[base], base, text) : text; // unknown: the server names it
  }
  return found;
}

function write(params, key, value) {
  params.set(key, Array.isArray(value) ? value.join(",")
    : typeof value === "boolean" ? (value ? "1" : "0") : String(value));
}

export function writeHash(settings, page, compare) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...settings, ...page })) write(params, key, value);
  if (compare) for (const [key, value] of Object.entries(compare)) write(params, B + key, value);
  // "," and "^" read better unescaped; URLSearchParams would encode them.
  const text = params.toString().replace(/%2C/g, ",").replace(/%5E/g, "^");
  history.replaceState(null, "", `#${text}`);
}

// {server: settings for the server, page: page-only keys, compare: network B's keys or null}
export function splitPageKeys(found) {
  const server = {};
  const page = {};
  let compare = null;
  for (const [key, value] of Object.entries(found)) {
    if (key in PAGE_KEYS) page[key] = value;
    else if (key.startsWith(B)) (compare = compare || {})[key.slice(B.length)] = value;
    else server[key] = value;
  }
  if (page.compare && !compare) compare = {};
  return { server, page, compare };
}
