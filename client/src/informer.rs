//! Shared informers: one list+watch per kind per process, stores with indexes, add/update/delete handlers.
