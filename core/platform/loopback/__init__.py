"""A loopback Pinduoduo platform: the same protocol as the real gateway, for the demo and tests.

It verifies signatures, timestamps and tokens exactly as :mod:`dadan.core.platform.pdd` produces
them, serves the APIs dadan uses with realistic generated orders, changes orders over time
(refunds, after-sales, cancellations, risk reviews, address changes, shipping elsewhere, new
orders), and can inject faults: timeouts, HTTP 5xx, busy and rate-limit codes, expired tokens,
truncated JSON, dropped connections and slow answers.

    platform = MockPlatform(seed=1)                  # loopback.platform
    mall = platform.add_mall("demo-shop")            # -> Mall with access/refresh tokens
    platform.generate_orders(mall, 500, spread_hours=72)
    with MockServer(platform) as server:             # loopback.server; 127.0.0.1, a free port
        server.url                                   # http://127.0.0.1:PORT/api/router

Platform time is real time plus ``platform.offset`` seconds (:meth:`MockPlatform.advance`),
so tests can move the clock without sleeping. Only loopback addresses are ever bound.

E-waybills: ``platform.subscribe(mall, "ZTO")`` gives the shop a branch with a balance and two
registered sender addresses; ``pdd.waybill.get`` then takes numbers of the courier's shape
(the same number again for a repeated object id), ``pdd.cloudprint.cmdprint.render`` turns
them into TSPL, ``pdd.goods.quantity.update`` keeps each shop's stock per SKU
(``platform.stock_quantity(mall, goods_id, sku_id)``), and ``platform.save(path)`` / ``MockPlatform.load(path)`` keep everything
across runs.

Modules: :mod:`.world` the generated shops' orders and how they change, :mod:`.faults` which
faults to inject, :mod:`.platform` the API logic (tokens, signatures, answers) and dispatch,
:mod:`.errors` the error answer, :mod:`.waybills` the e-waybill accounts and numbers,
:mod:`.cloudprint` standard templates and TSPL rendering, :mod:`.goods_stock` the stock
``pdd.goods.quantity.update`` sets per SKU, :mod:`.state_file` the state on
disk, :mod:`.server` the HTTP side, :mod:`.demo` the running platform behind
``dadan demo --platform``.
"""
