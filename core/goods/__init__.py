"""Goods and stock: the catalogue of merchant SKUs (barcodes, bin locations), the stock ledger
(movements, reservations by open orders) and the oversell guard."""
