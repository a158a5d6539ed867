// The browser code's translations. Every user-visible string in static/js goes through here:
// `t("Join now")`, `tn("%(count)s person", "%(count)s people", count)`, and `format` for the
// named placeholders. The words come from Django's JavaScript catalog (/jsi18n/, loaded by the
// page with a <script> before its modules), which defines the globals read below for the page's
// language. Without it (Node's unit tests, a page that did not load it) each string is its
// English self, so nothing here is needed for the code to work.
//
// Only literal strings may be passed to `t` and `tn`: `manage.py makemessages -d djangojs` finds
// them by name (rooms/management/commands/makemessages.py) and writes them to
// locale/<code>/LC_MESSAGES/djangojs.po.

/**
 * What Django's catalog defines on the page (django/views/i18n.py, its JavaScript template).
 * @typedef {{gettext?: (text: string) => string,
 *            ngettext?: (singular: string, plural: string, count: number) => string}} Catalog
 */

/** @returns {Catalog} */
function catalog() {
  return /** @type {Catalog} */ (globalThis);
}

/**
 * The translation of `text`, or `text` itself.
 * @param {string} text
 * @returns {string}
 */
export function t(text) {
  const gettext = catalog().gettext;
  return typeof gettext === "function" ? gettext(text) : text;
}

/**
 * The translation of `singular` or `plural`, whichever the language uses for `count`; English
 * rules without a catalog. The count is not filled in: pass the result to `format`.
 * @param {string} singular
 * @param {string} plural
 * @param {number} count
 * @returns {string}
 */
export function tn(singular, plural, count) {
  const ngettext = catalog().ngettext;
  if (typeof ngettext === "function") return ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/**
 * Fill the named placeholders of a translated text: `format(t("%(name)s joined."), {name})`.
 * Placeholders are written as Django's and Python's `%(name)s`, so a translation may reorder
 * them; a name missing from `values` is left as it is, which a test notices.
 * @param {string} text
 * @param {Record<string, string | number>} values
 * @returns {string}
 */
export function format(text, values) {
  return text.replace(/%\(([A-Za-z_][A-Za-z0-9_]*)\)s/g, (placeholder, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : placeholder,
  );
}
