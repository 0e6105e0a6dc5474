//! The drain engine: a pure planner, an executor, and a journal of maintenance actions.
