//! Rendering: panes, dialogs, help and theme. Pure functions of the model.
