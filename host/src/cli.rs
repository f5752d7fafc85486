//! The `guichet` command line.
