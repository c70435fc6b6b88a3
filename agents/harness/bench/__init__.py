"""The benchmark harness: expand a suite into runs, execute them (local processes or Ray), report and plot."""
