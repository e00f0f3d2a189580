"""OCI runtime spec generation and running conmon + runc/crun; does what engine says, decides nothing."""
