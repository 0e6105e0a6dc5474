//! The application core: one model, a pure `update`, and the loop that owns them.
