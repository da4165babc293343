"""Spreadsheets in and out: imports of .xlsx (python-calamine) and .csv/.txt exports, and the
exports dadan writes (:mod:`.export`).

The import flow, shared by ``dadan import`` and the TUI import screen::

    layout = layout.prepare(path, saved=SavedMappings())   # NeedsSheet / NeedsMapping if it must ask
    plan = plan.plan_import(layout, shop_id=..., couriers=CourierBook.from_database())
    rejects.write_rejects(plan, path)                      # rejected rows, with an error column
    outcome = commit.commit_import(plan, actor=..., allow_partial=False)

Modules: :mod:`.reading` (files -> raw rows), :mod:`.zip_guard` (an .xlsx checked before its reader sees it), :mod:`.fields` (field catalogue, header
recognition), :mod:`.layout` (sheet, header row, column mapping), :mod:`.mappings` (saved
column mappings), :mod:`.cells` (one cell -> one value; courier text goes
through :class:`dadan.core.orders.couriers.CourierBook`), :mod:`.rows` (validated rows, rejects), :mod:`.grouping` (lines -> order
records), :mod:`.plan` (checked import, dry-run counts), :mod:`.commit` (the write),
:mod:`.rejects` (the rejects file), :mod:`.errors`.

Rules
- One row per order line; rows are grouped into orders (by order number) with their items. If
  any line of an order is rejected, the whole order is rejected.
- A file with rejected rows is not written unless the user accepts a partial import; a refused
  or dry-run import leaves the database exactly as it was (not even an ``ImportRun`` row).
- Merging goes through :func:`core.orders.upsert.upsert_orders` with ``source="import"``: an
  import never overwrites data the platform sent, never clears print or ship state, never
  duplicates.
- Excel damage (order numbers turned into numbers or scientific notation) is rejected per row
  with a message that says how to export correctly. Nothing here raises anything but
  :class:`errors.SpreadsheetError` (a :class:`core.errors.DadanError`) for a bad file.
- Parsing never looks at the database by itself: saved mappings and the courier list are
  handed in by the caller.
"""
