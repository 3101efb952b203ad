// The settings in the page's address (#dataset=spiral&hidden=8,8&...), so a link shares them.
// Each value is typed by the default it replaces: numbers, lists of numbers, lists of names.

export const PAGE_KEYS = { show_test: false }; // page-only settings, never sent to the server

export function readHash(defaults) {
  const found = {};
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const all = { ...defaults, ...PAGE_KEYS };
  for (const [key, text] of params) {
    if (!(key in all)) {
      found[key] = text; // unknown: the server names it in its error
      continue;
    }
    const model = all[key];
    if (Array.isArray(model)) {
      const items = text === "" ? [] : text.split(",");
      const numeric = key === "hidden";
      found[key] = numeric ? items.map(Number) : items;
    } else if (typeof model === "number") {
      found[key] = Number(text);
    } else if (typeof model === "boolean") {
      found[key] = text === "1" || text === "true";
    } else {
      found[key] = text;
    }
  }
  return found;
}

export function writeHash(settings, page) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...settings, ...page })) {
    params.set(key, Array.isArray(value) ? value.join(",") : typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  // "," and "^" read better unescaped; URLSearchParams would encode them.
  const text = params.toString().replace(/%2C/g, ",").replace(/%5E/g, "^");
  history.replaceState(null, "", `#${text}`);
}

export function splitPageKeys(settings) {
  const server = {};
  const page = {};
  for (const [key, value] of Object.entries(settings)) {
    if (key in PAGE_KEYS) page[key] = value;
    else server[key] = value;
  }
  return { server, page };
}
