"""Electronic waybills (电子面单): the numbers a courier's label carries, taken from the platform.

- :mod:`.accounts`   which couriers each shop subscribed to (branches, balances, registered sender
                     addresses; ``pdd.waybill.search``) and the operator's choice per courier
- :mod:`.parcels`    parcel rows (:class:`~dadan.core.models.Waybill`) and their orders; what a
                     waybill print job needs per order (a number held, to take, or refused)
- :mod:`.take`       taking numbers (``pdd.waybill.get``, 10 parcels a call) ahead of the printer;
                     a lost answer is asked for again as the same request
- :mod:`.cloudprint` the courier's standard layout rendered by the platform into TSPL
- :mod:`.recycle`    cancelling numbers (``pdd.waybill.cancel``) and the numbers to recycle
- :mod:`.shipping`   one-key ship of printed parcels; the rules a typed number must obey
"""
