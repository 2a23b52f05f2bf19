"""Every side effect of a return, one module per outside system; each activity is idempotent."""
