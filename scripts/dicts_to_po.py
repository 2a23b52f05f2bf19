"""Fold hand-written EN/PT string tables into the gettext catalogs, then compile them (a one-off tool, no product module).

Before issue 15 the pages' strings lived in Python dicts: `EN: dict = {...}` / `PT: dict = {...}` and
`EN.update({...})` / `PT.update({...})` blocks in api/i18n.py and api/i18n_<area>.py modules. This script reads those
modules as source (ast, nothing is imported: they may import names api.i18n no longer has), takes every dict literal
assigned to or `.update()`d into a table named EN or PT, in file order (api/i18n.py first, then the others by name;
a later value of a key wins, as it did at import), and writes each key into the catalogs as a msgid, the table's text as
its msgstr: EN into api/locale/en, PT into api/locale/pt_PT. Entries already in a catalog are kept; a key the tables
give again gets the tables' text. Then it compiles every catalog's .mo, as `pybabel compile` would.

    python scripts/dicts_to_po.py                      # api/i18n.py and every api/i18n_*.py
    python scripts/dicts_to_po.py api/i18n_codes.py    # only these modules
    python scripts/dicts_to_po.py --locale-dir DIR ... # catalogs elsewhere than api/locale (the tests)

It ends by naming each module it folded: one with nothing but the tables can be deleted (with its import at the
bottom of api/i18n.py); one with other code keeps that code, and its EN/PT blocks are removed by hand.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "api" / "locale"
DOMAIN = "messages"
# The tables' names and the catalog (locale folder) each one feeds.
TABLES = {"EN": "en", "PT": "pt_PT"}


def table_name(node: ast.expr) -> str | None:
    """`EN`, `i18n.EN` -> "EN"; anything else -> None."""
    if isinstance(node, ast.Name) and node.id in TABLES:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in TABLES:
        return node.attr
    return None


def read_tables(path: Path, problems: list[str]) -> tuple[list[tuple[str, dict[str, str]]], bool]:
    """The (table, dict) pairs of one module in source order, and whether the module holds other code too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, dict[str, str]]] = []
    other_code = False
    for stmt in tree.body:
        name, literal = None, None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            name, literal = table_name(stmt.targets[0]), stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            name, literal = table_name(stmt.target), stmt.value
        elif (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and stmt.value.func.attr == "update"
            and len(stmt.value.args) == 1
        ):
            name, literal = table_name(stmt.value.func.value), stmt.value.args[0]
            if name and isinstance(literal, ast.Name):
                continue  # `i18n.EN.update(EN)`: the module's own table, already read where it was written
        if name is None or literal is None:
            is_doc = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            if not (is_doc or isinstance(stmt, ast.Import | ast.ImportFrom)):
                other_code = True
            continue
        if not isinstance(literal, ast.Dict):
            problems.append(f"{path.name}:{stmt.lineno}: {name} gets something other than a dict literal; skipped")
            continue
        table: dict[str, str] = {}
        for key, value in zip(literal.keys, literal.values, strict=True):
            try:
                k, v = ast.literal_eval(key) if key else None, ast.literal_eval(value)
            except ValueError:
                problems.append(f"{path.name}:{value.lineno}: a key or text that is not a plain string; skipped")
                continue
            if not (isinstance(k, str) and isinstance(v, str)):
                problems.append(f"{path.name}:{value.lineno}: {k!r} is not a string key with a string text; skipped")
                continue
            table[k] = v
        found.append((name, table))
    return found, other_code


def load_catalog(locale_dir: Path, locale: str) -> Catalog:
    po = locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if po.exists():
        with po.open("rb") as f:
            return read_po(f, locale=locale, domain=DOMAIN)
    return Catalog(locale=locale, domain=DOMAIN, project="Reverso", version="1.0", charset="utf-8", fuzzy=False)


def save_catalog(catalog: Catalog, locale_dir: Path, locale: str) -> None:
    folder = locale_dir / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{DOMAIN}.po").open("wb") as f:
        write_po(f, catalog, width=120, sort_output=True, include_previous=False)


def compile_all(locale_dir: Path) -> list[Path]:
    """Every catalog's .mo from its .po (fuzzy entries left out, as `pybabel compile` does)."""
    written = []
    for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(po.with_suffix(".mo"))
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", type=Path, help="modules with EN/PT tables (default: api/i18n*.py)")
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR, help="the catalogs' folder (api/locale)")
    args = parser.parse_args(argv)
    locale_dir: Path = args.locale_dir.resolve()
    if args.modules:
        modules = [m.resolve() for m in args.modules]
    else:
        modules = [ROOT / "api" / "i18n.py", *sorted((ROOT / "api").glob("i18n_*.py"))]
    problems: list[str] = []
    merged: dict[str, dict[str, str]] = {name: {} for name in TABLES}
    folded: list[tuple[Path, int, bool]] = []
    for path in modules:
        tables, other_code = read_tables(path, problems)
        for name, table in tables:
            for key, text in table.items():
                before = merged[name].get(key)
                if before is not None and before != text:
                    problems.append(f"{path.name}: {name} {key!r} given twice; the later text is kept")
                merged[name][key] = text
        if tables:
            folded.append((path, sum(len(t) for _, t in tables), other_code))

    for name, locale in TABLES.items():
        catalog = load_catalog(locale_dir, locale)
        added = changed = 0
        for key, text in merged[name].items():
            entry = catalog.get(key)
            if entry is None:
                catalog.add(key, text)
                added += 1
            elif entry.string != text:
                entry.string, entry.flags = text, {f for f in entry.flags if f != "fuzzy"}
                changed += 1
        save_catalog(catalog, locale_dir, locale)
        print(f"{locale}: {added} added, {changed} changed, {len(catalog)} in the catalog")

    missing = sorted(set(merged["EN"]) - set(merged["PT"]))
    if missing:
        problems.append(f"keys with English text and no Portuguese: {', '.join(missing)}")
    for mo in compile_all(locale_dir):
        print(f"compiled {mo}")
    for path, count, other_code in folded:
        what = "other code too: remove its EN/PT blocks by hand" if other_code else "only tables: delete it"
        print(f"folded {count} texts from {path} ({what})")
    for p in problems:
        print(f"note: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
