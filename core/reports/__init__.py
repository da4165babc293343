"""Reports: orders, parcels, printed, shipped, exceptions, overdue rate and pay -> ship time per
day / week / month; shipped by courier; by shop; by operator; money only when asked
(:mod:`.figures`); the same as tables (:mod:`.tables`) and as text, CSV or xlsx with native
charts (:mod:`.files`)."""
