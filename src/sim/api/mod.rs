//! The HTTP surface: the subset of the Kubernetes API the simulator serves.
