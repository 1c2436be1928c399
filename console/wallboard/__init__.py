"""The live wallboard (实时监控): one snapshot of the queue, the agents, callbacks, revisits and alerts."""
