"""*How the Hessian-Spectrum of Linear Networks Depends on Data* (2026): experiments and claim rules.

- :mod:`.experiments`: the paper's real-data subsets and the cached runs behind Figs. 1-4;
- :mod:`.claims`: the rules that score the inventory's claims (``shared/inventory/003_linear_networks.md`` §S).
"""
