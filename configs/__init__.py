"""memtape's YAML configs (hyperparameters in rl_zoo3's layout, benchmark suites), installed as the data package
`memtape_configs`; `agents.harness.configs` finds them with `importlib.resources`."""
