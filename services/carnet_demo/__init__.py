"""Tools around the product, not the product: the demo practice (`carnet demo_data`) and
the benchmark volume (`carnet generate_volume`).

No module of the product imports this package (tests/test_layers.py): the demo and the
benchmark write through the product's services (the demo) or beside them (the volume, as
the tables' owner), and the product runs the same without them.
"""
